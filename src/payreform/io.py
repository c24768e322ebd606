"""Reading an analyst's data file without surprises.

CSV files exported from Chinese statistical systems come in UTF-8, UTF-8 with a byte-order
mark (Excel's "CSV UTF-8") or GBK/GB18030 (Excel's default on a Chinese Windows), with commas,
semicolons or tabs between fields. :func:`read_table` reads all of these, and Parquet, and says
clearly what it could not read. The file is opened read-only and never modified.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from payreform.errors import ContractError, ParameterError

MISSING_MARKERS = ["", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", ".", "-", "—"]
"""Cell values read as missing (``.`` is Stata's missing value, ``-``/``—`` common in Excel)."""

_ENCODINGS = ("utf-8-sig", "gb18030")
_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class Table:
    """A data file as read: the frame (CSV cells as text) and how it was read."""

    frame: pd.DataFrame
    path: Path
    encoding: str | None
    delimiter: str | None
    sha256: str


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (recorded in ``results.json``)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    for encoding in _ENCODINGS:
        try:
            return raw.decode(encoding), ("utf-8" if encoding == "utf-8-sig" else "gbk")
        except UnicodeDecodeError:
            continue
    raise ContractError(
        f"file '{path.name}' is neither UTF-8 nor GBK text; save it again as 'CSV UTF-8'"
    )


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        header = text.splitlines()[0] if text else ""
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] > 0 else ","


def read_table(path: str | Path) -> Table:
    """Read a CSV (any common encoding and delimiter) or Parquet file.

    CSV cells are returned as text, so that the data contract can report a bad value with its
    row; Parquet columns keep their types.

    Parameters
    ----------
    path
        A ``.csv``, ``.txt``, ``.tsv`` or ``.parquet`` file.

    Raises
    ------
    ParameterError
        If the file does not exist or has an unsupported suffix.
    ContractError
        If the file is empty or cannot be decoded.

    Examples
    --------
    >>> table = read_table("youxi.csv")  # doctest: +SKIP
    >>> table.encoding, table.delimiter  # doctest: +SKIP
    ('utf-8', ',')
    """
    path = Path(path)
    if not path.exists():
        raise ParameterError(f"data file '{path}' does not exist; check the path given to --data")
    if path.is_dir():
        raise ParameterError(f"data '{path}' is a folder; give the path of a CSV or Parquet file")
    sha = file_sha256(path)
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types
            raise ContractError(f"file '{path.name}' is not a readable Parquet file ({exc})") from exc
        if frame.empty:
            raise ContractError(f"file '{path.name}' holds no rows; export the data again")
        return Table(frame, path, None, None, sha)
    if suffix in {".xlsx", ".xls"}:
        raise ParameterError(
            f"data file '{path.name}' is an Excel workbook; save the sheet as 'CSV UTF-8' and pass that"
        )
    if suffix not in {".csv", ".txt", ".tsv"}:
        raise ParameterError(
            f"data file '{path.name}' has suffix '{suffix}'; use a .csv or .parquet file"
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise ContractError(f"file '{path.name}' is empty; export the data again")
    text, encoding = _decode(raw, path)
    delimiter = _sniff_delimiter(text)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=MISSING_MARKERS,
            skipinitialspace=True,
        )
    except pd.errors.ParserError as exc:
        raise ContractError(
            f"file '{path.name}' has rows with more fields than the header ({exc}); check the delimiter"
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise ContractError(f"file '{path.name}' has a header but no data rows")
    return Table(frame, path, encoding, delimiter, sha)
