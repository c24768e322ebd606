"""``results.json`` and the tables the notebooks show.

``results.json`` (one per chapter run) has a stable schema that tests and outside checks read::

    {"schema": 1,
     "chapter": "youxi-itsa",
     "parameters": {...},                      # every notebook parameter as used
     "data": {"source": "synthetic" | "<path>", "rows": 46, "sha256": "..."},
     "estimates": [{"model": "...", "outcome": "...", "term": "...", "estimate": 0.0,
                    "std_error": 0.0, "p_value": 0.0, "ci_low": 0.0, "ci_high": 0.0,
                    "n_obs": 0}, ...],
     "diagnostics": {...}}                     # chapter-specific

Numbers are written with full precision; missing values are written as ``null``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SCHEMA_VERSION = 1
ESTIMATE_FIELDS = ("model", "outcome", "term", "estimate", "std_error", "p_value", "ci_low",
                   "ci_high", "n_obs")


def frame_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's CSV text (identifies a synthetic data set in ``results.json``)."""
    return hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()


def jsonable(value: Any) -> Any:
    """Convert numpy, pandas and other values to plain JSON types (NaN and inf become None).

    Examples
    --------
    >>> jsonable({"a": np.float64(1.5), "b": [np.nan, pd.Period("2017-10", "M")]})
    {'a': 1.5, 'b': [None, '2017-10']}
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Index)):
        return [jsonable(v) for v in list(value)]
    if isinstance(value, pd.Series):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Path):
        return str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def estimate_records(table: pd.DataFrame) -> list[dict]:
    """Rows of a tidy estimates table as ``results.json`` records.

    The table needs ``model``, ``outcome``, ``term``, ``estimate``, ``std_error``, ``p_value``,
    ``ci_low``, ``ci_high`` and ``n_obs``; any further columns are kept after them.
    """
    missing = [c for c in ESTIMATE_FIELDS if c not in table.columns]
    if missing:
        raise ValueError(f"estimates table lacks columns {missing}")
    extra = [c for c in table.columns if c not in ESTIMATE_FIELDS]
    ordered = table[list(ESTIMATE_FIELDS) + extra]
    return [jsonable(row) for row in ordered.to_dict(orient="records")]


def write_results(
    output_dir: str | Path,
    *,
    chapter: str,
    parameters: Mapping[str, Any],
    data: Mapping[str, Any],
    estimates: pd.DataFrame,
    diagnostics: Mapping[str, Any],
) -> Path:
    """Write ``results.json`` into ``output_dir`` (created if needed) and return its path.

    Examples
    --------
    >>> import tempfile
    >>> table = pd.DataFrame({"model": ["ols"], "outcome": ["y"], "term": ["beta3"], "estimate": [-1.5],
    ...                       "std_error": [0.5], "p_value": [0.01], "ci_low": [-2.5], "ci_high": [-0.5],
    ...                       "n_obs": [40]})
    >>> path = write_results(tempfile.mkdtemp(), chapter="youxi-itsa", parameters={}, data={"rows": 40},
    ...                      estimates=table, diagnostics={})
    >>> read_results(path)["estimates"][0]["estimate"]
    -1.5
    """
    directory = Path(output_dir)
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "schema": SCHEMA_VERSION,
        "chapter": chapter,
        "parameters": jsonable(dict(parameters)),
        "data": jsonable(dict(data)),
        "estimates": estimate_records(estimates),
        "diagnostics": jsonable(dict(diagnostics)),
    }
    path = directory / "results.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                    encoding="utf-8")
    return path


def read_results(path: str | Path) -> dict:
    """Read a ``results.json`` and check its top-level fields."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    for key in ("schema", "chapter", "parameters", "data", "estimates", "diagnostics"):
        if key not in document:
            raise ValueError(f"{path}: results.json lacks '{key}'")
    return document


def side_by_side(
    estimates: pd.DataFrame,
    truth: pd.DataFrame | None = None,
    published: pd.DataFrame | None = None,
    keys: tuple[str, ...] = ("outcome", "term"),
) -> pd.DataFrame:
    """Planted truth, this estimate (with interval) and the paper's value, one row per term.

    ``truth`` needs the key columns and ``value``; ``published`` the keys and ``estimate``
    (plus ``ci_low``/``ci_high`` if printed). The result has ``truth``, ``estimate``,
    ``ci_low``, ``ci_high``, ``covers_truth``, ``paper`` and ``paper_ci``.
    """
    frame = estimates[list(keys) + ["estimate", "std_error", "ci_low", "ci_high"]].copy()
    if truth is not None:
        frame = frame.merge(truth[list(keys) + ["value"]].rename(columns={"value": "truth"}),
                            on=list(keys), how="left")
        covers = ((frame["ci_low"] <= frame["truth"]) & (frame["truth"] <= frame["ci_high"])).astype("boolean")
        covers[frame["truth"].isna()] = pd.NA
        frame["covers_truth"] = covers
    if published is not None:
        paper = published[list(keys)].copy()
        paper["paper"] = published["estimate"]
        if {"ci_low", "ci_high"} <= set(published.columns):
            paper["paper_ci"] = [f"({lo:,.6g}, {hi:,.6g})" for lo, hi in
                                 zip(published["ci_low"], published["ci_high"], strict=True)]
        frame = frame.merge(paper, on=list(keys), how="left")
    first = list(keys) + (["truth"] if truth is not None else [])
    rest = [c for c in frame.columns if c not in first]
    return frame[first + rest]


def format_numbers(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Round float columns to ``digits`` significant-looking decimals for display (a copy).

    p-values below 0.001 are shown as ``<0.001``.
    """
    shown = frame.copy()
    for column in shown.columns:
        if column == "p_value":
            shown[column] = [("<0.001" if v < 0.001 else f"{v:.3f}") if pd.notna(v) else "" for v in shown[column]]
        elif pd.api.types.is_float_dtype(shown[column]):
            shown[column] = [f"{v:,.{digits}f}" if pd.notna(v) else "" for v in shown[column]]
    return shown


def compact_comparison(table: pd.DataFrame, term_labels: Mapping[str, str] | None = None,
                       outcome_labels: Mapping[str, str] | None = None, digits: int = 2) -> pd.DataFrame:
    """A :func:`side_by_side` (or estimates) table formatted for reading: intervals as text.

    Columns: outcome, term, truth, estimate, 95% CI, paper, paper 95% CI, covers truth (those
    present in ``table``).
    """
    term_labels = term_labels or {}
    outcome_labels = outcome_labels or {}

    def number(value: float) -> str:
        return "" if pd.isna(value) else f"{value:,.{digits}f}"

    shown = pd.DataFrame({
        "outcome": [outcome_labels.get(o, o) for o in table["outcome"]],
        "term": [term_labels.get(t, t) for t in table["term"]],
    })
    if "truth" in table:
        shown["truth"] = [number(v) for v in table["truth"]]
    shown["estimate"] = [number(v) for v in table["estimate"]]
    shown["95% CI"] = [f"({number(lo)}, {number(hi)})" for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)]
    if "paper" in table:
        shown["paper"] = [number(v) for v in table["paper"]]
    if "paper_ci" in table:
        shown["paper 95% CI"] = table["paper_ci"].fillna("").to_numpy()
    if "covers_truth" in table:
        shown["covers truth"] = ["" if pd.isna(v) else ("yes" if v else "no") for v in table["covers_truth"]]
    if "p_value" in table and "truth" not in table:
        shown["p-value"] = format_numbers(table[["p_value"]])["p_value"].to_numpy()
    return shown
