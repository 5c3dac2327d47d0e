"""The one reader of saved models: :class:`ModelStore` (API, dashboard and report use it).

``sales-analytics train`` writes ``<folder>/<name>.joblib`` (the fitted model) and ``<name>.json``
(config, data summary, evaluation). The store loads a model once, reloads it when its file
changes, caches what callers compute from it per file (:meth:`LoadedModel.cached`), says how old
it is (:meth:`ModelStore.staleness`) and turns every failure into one of two exceptions with a
one-line message: :class:`ModelMissing` (never trained) and :class:`ModelUnusable` (cannot be
loaded, is not fitted, or cannot predict).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sales_analytics.models.base import BaseModel, load_model

R = TypeVar("R")

RETRAIN = "retrain it with `sales-analytics train`"


def _first_line(exc: BaseException) -> str:
    """``ExcType: first line of the message`` (messages of pickling errors span many lines)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


class ModelMissing(LookupError):
    """No saved model of that name (the API answers 404)."""

    def __init__(self, name: str, folder: Path):
        self.name, self.folder = name, folder
        super().__init__(f"no trained {name} model in {folder}: run `sales-analytics train` first")


class ModelUnusable(RuntimeError):
    """A saved model that cannot be loaded, is not fitted or cannot predict (the API answers 409).

    ``cause`` is the short reason (``ExcType: message``) without the advice around it.
    """

    def __init__(self, name: str, what: str, cause: str):
        self.name, self.cause = name, cause
        super().__init__(f"the saved {name} model {what} ({cause}): {RETRAIN}")


@dataclass
class LoadedModel:
    """A model loaded from its file, with a cache of what was computed from that file."""

    name: str
    path: Path
    version: tuple[int, int]  # (mtime_ns, size) of the file it was loaded from
    model: BaseModel
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def mtime_ns(self) -> int:
        return self.version[0]

    def cached(self, key: str, compute: Callable[[], R]) -> R:
        """``compute()`` once per saved file (predictions are expensive, the file is not).

        Any exception of ``compute`` becomes :class:`ModelUnusable` ("cannot predict").
        """
        with self.lock:
            if key not in self.cache:
                try:
                    self.cache[key] = compute()
                except Exception as exc:  # noqa: BLE001 - a broken model is a 409, not a 500
                    raise ModelUnusable(self.name, "cannot predict", _first_line(exc)) from exc
            return self.cache[key]


@dataclass(frozen=True)
class Staleness:
    """How old a saved model is: when it was fitted and on data up to which day.

    ``latest_data`` is the last day of the data now, when the caller knows it (the store does
    not read the database); ``days_behind`` is then the number of days of data the model has
    not seen.
    """

    name: str
    fitted_at: datetime | None
    data_until: date | None
    latest_data: date | None = None

    @property
    def days_behind(self) -> int | None:
        if self.data_until is None or self.latest_data is None:
            return None
        return max(0, (self.latest_data - self.data_until).days)

    @property
    def is_stale(self) -> bool:
        return bool(self.days_behind)

    def describe(self) -> str:
        """One sentence, e.g. ``forecast fitted 2026-01-05 10:00 UTC on data until 2025-12-31
        (3 days behind the data)``."""
        when = (
            self.fitted_at.strftime("%Y-%m-%d %H:%M UTC")
            if self.fitted_at
            else "at an unknown time"
        )
        text = f"{self.name} fitted {when}"
        if self.data_until is not None:
            text += f" on data until {self.data_until.isoformat()}"
        behind = self.days_behind
        if behind:
            text += f" ({behind} day{'s' if behind != 1 else ''} behind the data)"
        elif behind == 0:
            text += " (up to date)"
        return text


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(str(value)).date()
    except ValueError:
        return None


def _as_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


class ModelStore:
    """Saved models of one folder, loaded once and reloaded when their file changes.

    Parameters
    ----------
    folder
        The models folder (``Settings.models_dir``; ``sales-analytics train --models-dir``).

    Thread-safe: one model is loaded at a time; :meth:`LoadedModel.cached` locks per model.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._loaded: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ModelStore({str(self.folder)!r})"

    # ------------------------------------------------------------------ files
    def path(self, name: str) -> Path:
        """``<folder>/<name>.joblib`` (``name`` must be one of ``MODEL_NAMES``)."""
        from sales_analytics.models import MODEL_NAMES

        if name not in MODEL_NAMES:
            raise ValueError(f"unknown model {name!r}: choose from {', '.join(MODEL_NAMES)}")
        return self.folder / f"{name}.joblib"

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def _version(self, name: str) -> tuple[int, int] | None:
        try:
            st = self.path(name).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def stamp(self, names: Iterable[str] | None = None) -> tuple[tuple[str, int, int], ...]:
        """``(name, mtime_ns, size)`` of each saved model: a cache key that changes on retraining."""
        from sales_analytics.models import MODEL_NAMES

        out = []
        for name in names if names is not None else MODEL_NAMES:
            version = self._version(name)
            if version is not None:
                out.append((name, *version))
        return tuple(out)

    def saved(self, names: Iterable[str] | None = None) -> tuple[str, ...]:
        """Names of the saved models (among ``names``, default all), in ``MODEL_NAMES`` order."""
        return tuple(s[0] for s in self.stamp(names))

    # ------------------------------------------------------------------ loading
    def get(self, name: str) -> LoadedModel:
        """The loaded model; :class:`ModelMissing` or :class:`ModelUnusable` otherwise."""
        path = self.path(name)
        version = self._version(name)
        if version is None:
            raise ModelMissing(name, self.folder)
        with self._lock:
            hit = self._loaded.get(name)
            if hit is not None and hit.version == version:
                return hit
            try:
                model = load_model(name, self.folder)
            except FileNotFoundError:
                raise ModelMissing(name, self.folder) from None
            except Exception as exc:  # noqa: BLE001 - unreadable, foreign or incompatible file
                raise ModelUnusable(name, f"at {path} cannot be loaded", _first_line(exc)) from exc
            if not getattr(model, "is_fitted", False):
                raise ModelUnusable(name, f"at {path} is not fitted", "no fit recorded")
            loaded = LoadedModel(name, path, version, model)
            self._loaded[name] = loaded
            return loaded

    def optional(self, name: str) -> LoadedModel | None:
        """The model, or ``None`` when it was never saved (an unusable one still raises)."""
        try:
            return self.get(name)
        except ModelMissing:
            return None

    def model(self, name: str) -> BaseModel:
        """The fitted model object itself (see :meth:`get`)."""
        return self.get(name).model

    def metadata(self, name: str) -> dict[str, Any]:
        """``<name>.json`` (config, data summary, evaluation); ``{}`` when there is none.

        Raises :class:`ModelUnusable` when the file cannot be read as a JSON object.
        """
        path = self.folder / f"{self.path(name).stem}.json"
        if not path.is_file():
            return {}
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelUnusable(name, f"metadata {path} cannot be read", _first_line(exc)) from exc
        if not isinstance(meta, dict):
            raise ModelUnusable(name, f"metadata {path} cannot be read", "not a JSON object")
        return meta

    def staleness(self, name: str, latest_data: date | datetime | None = None) -> Staleness:
        """When ``name`` was fitted, on data until which day, and how far that is behind
        ``latest_data`` (the last day of the data now, when given).

        Reads ``<name>.json`` (cheap); loads the model only when the JSON lacks the dates.
        """
        if not self.exists(name):
            raise ModelMissing(name, self.folder)
        meta = self.metadata(name)
        data = meta.get("data") if isinstance(meta.get("data"), dict) else {}
        fitted_at, until = meta.get("fitted_at"), data.get("data_until")
        if not fitted_at or not until:
            model = self.model(name)
            fitted_at = fitted_at or model.fitted_at_
            until = until or getattr(model, "data_until_", None)
        return Staleness(name, _as_datetime(fitted_at), _as_date(until), _as_date(latest_data))


__all__ = ["LoadedModel", "ModelMissing", "ModelStore", "ModelUnusable", "Staleness"]
