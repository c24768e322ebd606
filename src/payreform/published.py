"""Aggregate figures printed in the papers, shipped as small CSVs in ``data/published/``.

Each CSV starts with ``# source: ...`` (paper and table) and optional ``# note: ...`` lines.
These are real published data, unlike the synthetic series of :mod:`payreform.synth`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from payreform.errors import ParameterError


def data_directory() -> Path:
    """The ``data/published`` folder of this checkout.

    The package is installed in editable mode from a clone (``pip install -e .``), so the
    folder sits two levels above the package.
    """
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "data" / "published"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "data/published not found: install payreform from a clone with `pip install -e .`"
    )


def available() -> list[str]:
    """Names of the published tables (file names without ``.csv``)."""
    return sorted(p.stem for p in data_directory().glob("*.csv"))


def _header(path: Path) -> tuple[str, list[str]]:
    source, notes = "", []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            text = line[1:].strip()
            if text.startswith("source:"):
                source = text[len("source:"):].strip()
            elif text.startswith("note:"):
                notes.append(text[len("note:"):].strip())
    return source, notes


def load(name: str) -> pd.DataFrame:
    """Load a published table; its citation is in ``frame.attrs["source"]``.

    Examples
    --------
    >>> table = load("youxi_table4_services")
    >>> table["year"].tolist()
    [2016, 2017, 2018, 2019]
    """
    path = data_directory() / f"{name}.csv"
    if not path.exists():
        raise ParameterError(f"no published table '{name}'; available: {', '.join(available())}")
    frame = pd.read_csv(path, comment="#")
    source, notes = _header(path)
    frame.attrs["source"] = source
    frame.attrs["notes"] = notes
    return frame


def catalog() -> pd.DataFrame:
    """One row per published table: name, source and notes."""
    rows = []
    for name in available():
        source, notes = _header(data_directory() / f"{name}.csv")
        rows.append({"table": name, "source": source, "notes": " ".join(notes)})
    return pd.DataFrame(rows)
