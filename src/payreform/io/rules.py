"""The reading rules every reader of the package shares (pandas and DuckDB alike).

One place decides what counts as a missing value, how thousands separators are written, which
text encodings are tried and which delimiters are considered, so that a file reads the same in
every chapter whatever engine scans it.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from pathlib import Path

from payreform.errors import ContractError

MISSING_MARKERS = ("", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", ".", "-", "—")
"""Cell values read as missing (``.`` is Stata's missing value, ``-``/``—`` common in Excel)."""

THOUSANDS_PATTERN = r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$"
"""A number written with thousands separators (``1,234`` or ``-12,345.6``)."""

THOUSANDS = re.compile(THOUSANDS_PATTERN)

ENCODINGS = ("utf-8-sig", "gb18030")
"""Encodings tried in order: UTF-8 (with or without byte-order mark), then GBK/GB18030."""

DELIMITERS = ",;\t|"
"""Field separators considered when sniffing a text file."""

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xls", ".xlsm")


def encoding_name(python_codec: str) -> str:
    """The name reported for a codec: ``utf-8`` or ``gbk``.

    Examples
    --------
    >>> encoding_name("utf-8-sig"), encoding_name("gb18030")
    ('utf-8', 'gbk')
    """
    return "utf-8" if python_codec.startswith("utf-8") else "gbk"


def decode(raw: bytes, path: Path) -> tuple[str, str]:
    """Decode a text file's bytes with the first encoding that fits; return (text, encoding name).

    Examples
    --------
    >>> decode("月份,门诊".encode("gbk"), Path("x.csv"))
    ('月份,门诊', 'gbk')
    """
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding), encoding_name(encoding)
        except UnicodeDecodeError:
            continue
    raise ContractError(f"file '{path.name}' is neither UTF-8 nor GBK text; save it again as 'CSV UTF-8'")


def sniff_delimiter(text: str) -> str:
    """The field separator of a text table (comma, semicolon, tab or bar).

    Examples
    --------
    >>> sniff_delimiter("month;visits\\n2016-01;5\\n")
    ';'
    """
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = text.splitlines()[0] if text else ""
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] > 0 else ","


def data_file(data: str | os.PathLike, sheet: str | None = None) -> tuple[Path, str]:
    """The path of a data file and its kind (``parquet``, ``csv`` or ``excel``, by suffix), or a
    one-line :class:`ContractError` (missing file, folder, unknown suffix, ``sheet`` given for a
    file that is not a workbook). Every scanning engine opens files through this.

    Examples
    --------
    >>> data_file("no/such/file.csv")
    Traceback (most recent call last):
    ...
    payreform.errors.ContractError: file 'no/such/file.csv' does not exist; check the path
    """
    path = Path(data)
    if not path.exists():
        raise ContractError(f"file '{path}' does not exist; check the path")
    if path.is_dir():
        raise ContractError(f"'{path}' is a folder; give the path of a CSV, Excel or Parquet file")
    suffix = path.suffix.lower()
    if sheet is not None and suffix not in EXCEL_SUFFIXES:
        raise ContractError(f"parameter 'sheet' applies to Excel workbooks; '{path.name}' is not one")
    kinds = {**dict.fromkeys(PARQUET_SUFFIXES, "parquet"), **dict.fromkeys(TEXT_SUFFIXES, "csv"),
             **dict.fromkeys(EXCEL_SUFFIXES, "excel")}
    if suffix not in kinds:
        raise ContractError(f"file '{path.name}' has the suffix '{suffix}'; give a .csv, "
                            ".xlsx/.xls or .parquet file")
    return path, kinds[suffix]


SNIFF_BYTES = 1 << 16
"""Bytes read from the start of a text file to find its encoding and delimiter."""


def _not_text(path: Path) -> ContractError:
    return ContractError(f"file '{path.name}' is neither UTF-8 nor GBK text; save it again as "
                         "'CSV UTF-8'")


def sniff_text_file(path: Path) -> tuple[str, str]:
    """Encoding (``utf-8`` or ``gbk``, by :data:`ENCODINGS`) and delimiter of a text table, from
    its first :data:`SNIFF_BYTES` bytes; a one-line :class:`ContractError` for a file that is
    neither encoding or holds nothing. A GBK byte further on is found by the reader.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_bytes("年度;人数\\n2020;3\\n".encode("gbk"))
    >>> sniff_text_file(path)
    ('gbk', ';')
    """
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    for encoding in ENCODINGS:
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        if not text.strip():
            raise ContractError(f"file '{path.name}' is empty; export the records again")
        return encoding_name(encoding), sniff_delimiter(text)
    raise _not_text(path)


def transcode_gbk(path: Path, target: Path) -> None:
    """Write a UTF-8 copy of the GBK (GB18030) text file ``path`` to ``target``, in blocks (the
    input is never modified); a one-line :class:`ContractError` if it is not GBK text either."""
    decoder = codecs.getincrementaldecoder(ENCODINGS[-1])()
    try:
        with open(path, "rb") as source, open(target, "w", encoding="utf-8", newline="") as out:
            for block in iter(lambda: source.read(1 << 22), b""):
                out.write(decoder.decode(block))
            out.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        raise _not_text(path) from None
