"""Read one table (CSV/TSV, Excel workbook or Parquet) into a DataFrame, once.

CSV cells are returned as text so that the data contracts can report a bad value with its row;
Excel cells keep what the workbook stores (numbers, text, dates); Parquet columns keep their
types. Every refusal is one line naming the file and what to do.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from payreform.errors import ContractError, ParameterError
from payreform.io.rules import (
    EXCEL_SUFFIXES,
    MISSING_MARKERS,
    PARQUET_SUFFIXES,
    TEXT_SUFFIXES,
    decode,
    sniff_delimiter,
)


@dataclass(frozen=True)
class Table:
    """A data file as read: the frame and how it was read.

    ``encoding`` and ``delimiter`` are set for text files, ``sheet`` for Excel workbooks.
    """

    frame: pd.DataFrame
    path: Path
    encoding: str | None
    delimiter: str | None
    sha256: str
    sheet: str | None = None

    def info(self) -> dict:
        """The ``data`` block of ``results.json``: source, rows, checksum and how it was read."""
        block = {"source": str(self.path.resolve()), "file": self.path.name, "rows": len(self.frame),
                 "sha256": self.sha256}
        for key in ("encoding", "delimiter", "sheet"):
            if getattr(self, key) is not None:
                block[key] = getattr(self, key)
        return block


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (recorded in ``results.json``)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_data_path(path: str | Path) -> Path:
    """The path as a :class:`~pathlib.Path` if it names a readable data file; else a one-line error."""
    path = Path(path)
    if not path.exists():
        raise ParameterError(f"data file '{path}' does not exist; check the path given to --data")
    if path.is_dir():
        raise ParameterError(f"data '{path}' is a folder; give the path of a CSV, Excel or Parquet file")
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES:
        raise ParameterError(
            f"data file '{path.name}' has suffix '{suffix}'; use a .csv, .xlsx/.xls or .parquet file"
        )
    return path


def _column_letter(position: int) -> str:
    """Spreadsheet column letter of a 0-based column position (0 -> A, 26 -> AA)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or \
        (isinstance(value, str) and value.strip() in MISSING_MARKERS)


def _is_number(value: object) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return not (isinstance(value, float) and np.isnan(value))
    try:
        float(str(value).replace(",", ""))
    except ValueError:
        return False
    return True


def _sheet_names(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    return list(CalamineWorkbook.from_path(str(path)).sheet_names)


def _read_excel(path: Path, sheet: str | None) -> tuple[pd.DataFrame, str]:
    try:
        names = _sheet_names(path)
    except Exception as exc:  # calamine raises several types for broken files
        raise ContractError(f"file '{path.name}' is not a readable Excel workbook ({exc}); save it again") from None
    if not names:
        raise ContractError(f"workbook '{path.name}' has no sheets")
    if sheet is None:
        chosen = names[0]
    elif sheet in names:
        chosen = sheet
    else:
        from payreform.errors import closest

        raise ParameterError(
            f"workbook '{path.name}' has no sheet '{sheet}'{closest(sheet, names)}; its sheets are "
            f"{', '.join(names)}; set sheet=<name>"
        )
    raw = pd.read_excel(path, sheet_name=chosen, header=None, engine="calamine", dtype=object)
    raw = raw.dropna(how="all").dropna(axis=1, how="all")
    where = f"sheet '{chosen}' of '{path.name}'"
    if raw.empty:
        raise ContractError(f"{where} is empty; choose the sheet holding the data with sheet=<name>")
    raw = raw.reset_index(drop=True)
    header = list(raw.iloc[0])
    blank = [i for i, v in enumerate(header) if _is_blank(v)]
    if blank:
        letter = _column_letter(int(raw.columns[blank[0]]))
        raise ContractError(
            f"{where} has an empty header cell in column {letter} (merged header cells?); put one name in "
            "every header cell of the first row, without merged cells"
        )
    body = raw.iloc[1:]
    if body.empty:
        raise ContractError(f"{where} has a header but no data rows")
    if len(body) >= 3:
        rest = body.iloc[1:]
        numeric = [c for c in raw.columns
                   if rest[c].map(lambda v: _is_blank(v) or _is_number(v)).mean() >= 0.9
                   and rest[c].map(_is_number).any()]
        if numeric:
            textual = [c for c in numeric if not _is_blank(body.iloc[0][c]) and not _is_number(body.iloc[0][c])]
            if len(textual) >= max(1, (len(numeric) + 1) // 2):
                raise ContractError(
                    f"{where} seems to have several header rows (row 2 holds text such as "
                    f"{str(body.iloc[0][textual[0]])!r} above numbers); keep one header row with one name per column"
                )
    names_row = [str(v).strip() for v in header]
    frame = body.set_axis(names_row, axis=1).reset_index(drop=True)
    frame = frame.map(lambda v: np.nan if isinstance(v, str) and v.strip() in MISSING_MARKERS else v)
    frame = frame.infer_objects()
    return frame, chosen


def read_table(path: str | Path, sheet: str | None = None) -> Table:
    """Read a CSV (any common encoding and delimiter), Excel or Parquet file.

    Parameters
    ----------
    path
        A ``.csv``, ``.txt``, ``.tsv``, ``.xlsx``, ``.xls`` or ``.parquet`` file.
    sheet
        Excel only: the sheet to read (default the first).

    Raises
    ------
    ParameterError
        If the file does not exist, has an unsupported suffix or lacks the sheet.
    ContractError
        If the file is empty, cannot be decoded, or its header is not one row of names.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "x.csv")
    >>> _ = open(path, "w", encoding="gbk").write("月份;门诊人次\\n2016-01;1,200\\n")
    >>> table = read_table(path)
    >>> table.encoding, table.delimiter, list(table.frame.columns)
    ('gbk', ';', ['月份', '门诊人次'])
    """
    path = check_data_path(path)
    sha = file_sha256(path)
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types
            raise ContractError(f"file '{path.name}' is not a readable Parquet file ({exc})") from exc
        if frame.empty:
            raise ContractError(f"file '{path.name}' holds no rows; export the data again")
        return Table(frame, path, None, None, sha)
    if suffix in EXCEL_SUFFIXES:
        frame, chosen = _read_excel(path, sheet)
        return Table(frame, path, None, None, sha, chosen)
    if sheet is not None:
        raise ParameterError(f"parameter 'sheet' applies to Excel workbooks; '{path.name}' is a text file")
    raw = path.read_bytes()
    if not raw.strip():
        raise ContractError(f"file '{path.name}' is empty; export the data again")
    text, encoding = decode(raw, path)
    delimiter = sniff_delimiter(text)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                            na_values=list(MISSING_MARKERS), skipinitialspace=True)
    except pd.errors.ParserError as exc:
        raise ContractError(
            f"file '{path.name}' has rows with more fields than the header ({exc}); check the delimiter"
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise ContractError(f"file '{path.name}' has a header but no data rows")
    return Table(frame, path, encoding, delimiter, sha)
