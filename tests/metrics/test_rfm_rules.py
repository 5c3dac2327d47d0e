"""RFM segment rules: the YAML round trip, validation messages, the default table (every segment
reachable, unlike the R package's) and a rules file in force everywhere segments are computed."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from sales_analytics import metrics
from sales_analytics.metrics import rfm_rules
from sales_analytics.metrics.rfm_rules import (
    DEFAULT_RFM_RULES,
    R_RFM_RULES,
    SEGMENT_NAMES,
    dump_rules,
    load_rules,
    reachable,
)


@pytest.fixture
def restore_rules():
    yield
    rfm_rules.use_rules(None)


def test_yaml_round_trip(tmp_path):
    for rules in (DEFAULT_RFM_RULES, R_RFM_RULES):
        path = tmp_path / "rules.yaml"
        path.write_text(dump_rules(rules))
        back = load_rules(path)
        assert back == rules and list(back) == list(rules)  # bounds and order


def test_every_default_segment_is_reachable():
    named = set(SEGMENT_NAMES) - {"Others"}
    assert reachable(DEFAULT_RFM_RULES) == named
    # also when no customer has frequency score 2 (over 20% one-order customers share score 1)
    assert reachable(DEFAULT_RFM_RULES, f_scores=(1, 3, 4, 5)) == named
    # the R package's table (first match wins) shadows three segments: why we deviate
    assert named - reachable(R_RFM_RULES) == {"New Customers", "Promising", "Can't Lose Them"}


def test_default_segments_occur_in_data():
    """On a small synthetic shop every default segment holds customers."""
    from sales_analytics.synth import generate

    data = generate(scale=0.3, seed=11)
    db = ibis.duckdb.connect()
    for name in ("customers", "orders"):
        db.create_table(name, data.tables[name])
    seg = metrics.compute(db, "segment_summary")
    assert set(seg.loc[seg["customers"] > 0, "segment"]) == set(SEGMENT_NAMES) - {"Others"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("segments: 3", "expected a 'segments:' list"),
        (
            "segments:\n- name: Whales\n  recency: [1, 5]\n  frequency: [1, 5]\n  monetary: [1, 5]",
            "unknown segment 'Whales'; use Champions,",
        ),
        (
            "segments:\n- name: Lost\n  recency: [0, 5]\n  frequency: [1, 5]\n  monetary: [1, 5]",
            "Lost: bounds must be integers with 1 <= low <= high <= 5",
        ),
        ("segments:\n- name: Lost\n  recency: [1, 5]", "Lost: missing frequency, monetary"),
        ("segments: [", "not valid YAML"),
    ],
)
def test_bad_rules_files(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match="RFM rules .*rules.yaml: ") as err:
        load_rules(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_rules_in_force_follow_the_file(tmp_path, monkeypatch, restore_rules):
    from sales_analytics.metrics.rules import segment_case

    def classify(r, f, m):
        t = ibis.memtable(pd.DataFrame({"r": [r], "f": [f], "m": [m]}))
        return ibis.duckdb.connect().to_pandas(t.mutate(s=segment_case(t.r, t.f, t.m)))["s"][0]

    assert classify(5, 1, 1) == "New Customers"
    path = tmp_path / "r.yaml"
    path.write_text(dump_rules(R_RFM_RULES))
    monkeypatch.setenv("SA_RFM_RULES", str(path))
    assert classify(5, 1, 1) == "Potential Loyalist"  # the R package's order
    monkeypatch.delenv("SA_RFM_RULES")
    rfm_rules.use_rules({"Lost": ((1, 5), (1, 5), (1, 5))}, source=path)
    assert classify(5, 5, 5) == "Lost" and rfm_rules.override_source() == path.resolve()
