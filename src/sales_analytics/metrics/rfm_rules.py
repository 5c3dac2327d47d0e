"""The RFM named-segment rules: an ordered table of score bounds, first match wins.

A rule table maps a segment name to inclusive ``(recency, frequency, monetary)`` score bounds
(1-5, 5 = best). :data:`DEFAULT_RFM_RULES` is ours: every named segment can occur (a deviation
from the R ``rfm`` package, whose table :data:`R_RFM_RULES` shadows three segments; see
docs/rules.md). A YAML file can replace the table (``SA_RFM_RULES`` or the CLI's
``--rfm-rules``)::

    segments:            # evaluated in this order; the first rule that holds wins
      - name: Champions
        recency: [4, 5]
        frequency: [4, 5]
        monetary: [4, 5]
      ...

Names must be among :data:`SEGMENT_NAMES` (one vocabulary for filters, API and dashboard);
customers that no rule matches are ``Others``. The rule is applied in one place,
:func:`sales_analytics.metrics.rules.segment_case`, through :func:`active_rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

Bounds = tuple[int, int]
Rules = dict[str, tuple[Bounds, Bounds, Bounds]]

#: The R ``rfm`` package's table (its tests and 0.2.x documentation), first match wins: New
#: Customers, Promising and Can't Lose Them can never occur with it.
R_RFM_RULES: Rules = {
    "Champions": ((4, 5), (4, 5), (4, 5)),
    "Loyal Customers": ((2, 5), (3, 5), (3, 5)),
    "Potential Loyalist": ((3, 5), (1, 3), (1, 3)),
    "New Customers": ((4, 5), (1, 1), (1, 1)),
    "Promising": ((3, 4), (1, 1), (1, 1)),
    "Need Attention": ((2, 3), (2, 3), (2, 3)),
    "About To Sleep": ((2, 3), (1, 2), (1, 2)),
    "At Risk": ((1, 2), (2, 5), (2, 5)),
    "Can't Lose Them": ((1, 1), (4, 5), (4, 5)),
    "Lost": ((1, 2), (1, 2), (1, 2)),
}
OTHER_SEGMENT = "Others"
#: Every segment name, in the canonical order used for sorting and in the API.
SEGMENT_NAMES: tuple[str, ...] = (*R_RFM_RULES, OTHER_SEGMENT)

#: Our default: every named segment reachable, also when the frequency score skips 2 (one-order
#: customers share the lowest score, so with over 20% of them two orders score 3).
DEFAULT_RFM_RULES: Rules = {
    "Champions": ((4, 5), (4, 5), (4, 5)),
    "Loyal Customers": ((3, 5), (4, 5), (1, 5)),
    "Potential Loyalist": ((4, 5), (2, 3), (1, 5)),
    "New Customers": ((5, 5), (1, 1), (1, 5)),
    "Promising": ((4, 4), (1, 1), (1, 5)),
    "Need Attention": ((3, 3), (1, 3), (1, 5)),
    "Can't Lose Them": ((1, 1), (4, 5), (4, 5)),
    "At Risk": ((1, 2), (3, 5), (1, 5)),
    "About To Sleep": ((2, 2), (1, 2), (1, 5)),
    "Lost": ((1, 1), (1, 2), (1, 5)),
}
AXES: tuple[str, ...] = ("recency", "frequency", "monetary")

_override: Rules | None = None
_override_source: Path | None = None


def validate_rules(rules: Mapping[str, object], *, where: str = "RFM rules") -> Rules:
    """Check names (known, once each) and bounds (integers 1-5, low <= high)."""
    if not rules:
        raise ValueError(f"{where}: no segments")
    out: Rules = {}
    for name, bounds in rules.items():
        if name not in SEGMENT_NAMES or name == OTHER_SEGMENT:
            known = ", ".join(SEGMENT_NAMES[:-1])
            raise ValueError(f"{where}: unknown segment {name!r}; use {known}")
        try:
            triple = tuple((int(lo), int(hi)) for lo, hi in bounds)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            raise ValueError(f"{where}: {name}: bounds must be three [low, high] pairs") from None
        if len(triple) != 3 or any(not 1 <= lo <= hi <= 5 for lo, hi in triple):
            raise ValueError(f"{where}: {name}: bounds must be integers with 1 <= low <= high <= 5")
        out[name] = triple  # type: ignore[assignment]
    return out


def load_rules(path: str | Path) -> Rules:
    """Read a rules YAML file (see the module docstring); one-line errors."""
    import yaml

    path = Path(path)
    where = f"RFM rules {path}"
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ValueError(f"{where}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{where}: not valid YAML: {str(exc).splitlines()[0]}") from None
    items = doc.get("segments") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ValueError(f"{where}: expected a 'segments:' list")
    rules: dict[str, object] = {}
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict) or "name" not in item:
            raise ValueError(f"{where}: segment {i} needs a name")
        missing = [a for a in AXES if a not in item]
        if missing:
            raise ValueError(f"{where}: {item['name']}: missing {', '.join(missing)}")
        if item["name"] in rules:
            raise ValueError(f"{where}: {item['name']} is listed twice")
        rules[str(item["name"])] = [item[a] for a in AXES]
    return validate_rules(rules, where=where)


def dump_rules(rules: Rules) -> str:
    """The YAML text of ``rules`` (what :func:`load_rules` reads)."""
    import yaml

    doc = {
        "segments": [
            {"name": name} | {a: list(b) for a, b in zip(AXES, bounds, strict=True)}
            for name, bounds in rules.items()
        ]
    }
    head = "# RFM named segments: evaluated in order, first match wins; scores 1-5 (5 = best)\n"
    return head + yaml.safe_dump(doc, sort_keys=False, default_flow_style=None)


def use_rules(rules: Rules | None, source: str | Path | None = None) -> None:
    """Replace the rules for this process (the CLI's ``--rfm-rules``); ``None``: back to settings.

    ``source`` (the YAML file) is passed on to child processes (the dashboard) as
    ``SA_RFM_RULES``.
    """
    global _override, _override_source
    _override = validate_rules(rules) if rules is not None else None
    _override_source = Path(source).resolve() if source is not None and rules is not None else None


def override_source() -> Path | None:
    """The YAML file given to :func:`use_rules`, if any."""
    return _override_source


def active_rules() -> Rules:
    """The rules in force: ``use_rules``, else the ``SA_RFM_RULES`` file, else the default."""
    if _override is not None:
        return _override
    from sales_analytics.config import get_settings

    path = get_settings().rfm_rules
    return load_rules(path) if path else DEFAULT_RFM_RULES


def reachable(rules: Rules, f_scores=range(1, 6)) -> set[str]:
    """Segments some score triple reaches (``f_scores``: frequency scores that occur)."""
    hit = set()
    for r in range(1, 6):
        for f in f_scores:
            for m in range(1, 6):
                hit.add(classify(rules, r, f, m))
    return hit


def classify(rules: Rules, r: int, f: int, m: int) -> str:
    """The segment of one score triple (the pure-Python twin of ``rules.segment_case``)."""
    for name, ((rl, ru), (fl, fu), (ml, mu)) in rules.items():
        if rl <= r <= ru and fl <= f <= fu and ml <= m <= mu:
            return name
    return OTHER_SEGMENT
