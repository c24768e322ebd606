"""Excel workbooks read like CSV files: first sheet or a named one, real dates, Chinese headers,
.xlsx and legacy .xls; merged or several header rows and empty sheets refused in one line."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
import xlwt

from payreform.contracts import validate_time_series
from payreform.errors import ContractError, ParameterError
from payreform.io import read_table


def workbook(path, sheets: dict[str, list[list]], merge: dict[str, str] | None = None):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if merge and name in merge:
            sheet.merge_cells(merge[name])
    book.save(path)
    return path


ROWS = [["月份", "门诊人次", "住院人次"]] + [[dt.datetime(2015, m, 1), 1000 + m, 50 + m] for m in range(1, 13)]


def test_first_sheet_with_dates_and_chinese_headers(tmp_path):
    path = workbook(tmp_path / "县.xlsx", {"月度": ROWS, "说明": [["note"], ["x"]]})
    table = read_table(path)
    assert table.sheet == "月度" and list(table.frame.columns) == ["月份", "门诊人次", "住院人次"]
    assert table.info()["sheet"] == "月度" and table.info()["file"] == "县.xlsx"
    ts = validate_time_series(table.frame, time_column="月份", intervention="2015-07")
    assert ts.frequency == "M" and str(ts.frame.index[0]) == "2015-01"
    assert ts.frame["门诊人次"].tolist() == [1000.0 + m for m in range(1, 13)]


def test_named_sheet_and_unknown_sheet(tmp_path):
    path = workbook(tmp_path / "book.xlsx", {"readme": [["text"], ["x"]], "data": ROWS})
    assert read_table(path, sheet="data").frame.shape == (12, 3)
    with pytest.raises(ParameterError, match=r"no sheet 'dat' \(did you mean 'data'\?\); its sheets are readme, data"):
        read_table(path, sheet="dat")


def test_legacy_xls(tmp_path):
    path = tmp_path / "old.xls"
    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    for r, row in enumerate([["year", "admissions"], [2010, 5], [2011, 7], [2012, 6]]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.save(str(path))
    frame = read_table(path).frame
    assert list(frame.columns) == ["year", "admissions"] and frame["admissions"].tolist() == [5, 7, 6]


@pytest.mark.parametrize("sheets, merge, message", [
    ({"s": [[None, None], [None, None]]}, None, r"sheet 's' of 'bad.xlsx' is empty"),
    ({"s": [["月份", "门诊", None, "住院"], ["2015-01", 1, 5, 2]]}, None, r"empty header cell in column C"),
    ({"s": [["月份", "门诊人次", ""], ["", "本院", "分院"], ["2015-01", 1, 2], ["2015-02", 3, 4],
            ["2015-03", 5, 6], ["2015-04", 7, 8]]}, {"s": "B1:C1"}, r"empty header cell in column C \(merged"),
    ({"s": [["month", "visits", "admissions"], ["", "persons", "persons"], ["2015-01", 1, 2],
            ["2015-02", 3, 4], ["2015-03", 5, 6]]}, None, r"several header rows \(row 2 holds text such as 'persons'"),
    ({"s": [["month", "visits"]]}, None, r"has a header but no data rows"),
])
def test_malformed_workbooks_are_refused_in_one_line(tmp_path, sheets, merge, message):
    path = workbook(tmp_path / "bad.xlsx", sheets, merge)
    before = path.read_bytes()
    with pytest.raises(ContractError, match=message) as caught:
        read_table(path)
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == before


def test_a_text_file_does_not_take_a_sheet(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("month,visits\n2015-01,3\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="parameter 'sheet' applies to Excel workbooks"):
        read_table(path, sheet="data")
