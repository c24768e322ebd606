"""Reading files and the time-series data contract: periods, encodings, delimiters, and one
test per rule with its message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from payreform.contracts import numeric_column, validate_time_series
from payreform.errors import ContractError, ParameterError
from payreform.io import read_table
from payreform.periods import parse_period, parse_periods


def months(n=24, start="2016-01"):
    return pd.period_range(start, periods=n, freq="M").astype(str)


def series_frame(n=24, start="2016-01", **columns):
    frame = pd.DataFrame({"month": months(n, start), "visits": np.arange(100, 100 + n)})
    for name, values in columns.items():
        frame[name] = values
    return frame


# ----------------------------------------------------------------------------- periods


@pytest.mark.parametrize("values, expected", [
    (["2016-02", "2016-03"], ["2016-02", "2016-03"]),
    (["2016/2", "2016/3"], ["2016-02", "2016-03"]),
    (["201602", "201603"], ["2016-02", "2016-03"]),
    (["2016-02-01", "2016-03-15"], ["2016-02", "2016-03"]),
    (["2016年2月", "2016年3月"], ["2016-02", "2016-03"]),
    (["2016Q1", "2016-Q2"], ["2016Q1", "2016Q2"]),
    (["2016年1季度", "2016 q2"], ["2016Q1", "2016Q2"]),
    (["2016", "2017"], ["2016", "2017"]),
    ([2016, 2017], ["2016", "2017"]),
])
def test_period_forms(values, expected):
    assert [str(p) for p in parse_periods(pd.Series(values), "t")] == expected


def test_datetime_and_period_columns():
    dates = pd.Series(pd.to_datetime(["2016-02-01", "2016-03-01"]))
    assert [str(p) for p in parse_periods(dates, "t")] == ["2016-02", "2016-03"]
    periods = pd.Series(pd.period_range("2016Q1", periods=2, freq="Q"))
    assert parse_periods(periods, "t").freqstr.startswith("Q")


def test_period_errors():
    with pytest.raises(ContractError, match=r"'2016-13' in row 3"):
        parse_periods(pd.Series(["2016-12", "2016-13"]), "month")
    with pytest.raises(ContractError, match="mixes monthly and quarterly"):
        parse_periods(pd.Series(["2016-01", "2016Q2"]), "month")
    with pytest.raises(ContractError, match="empty in row 2"):
        parse_periods(pd.Series([None, "2016-02"]), "month")
    with pytest.raises(ParameterError, match="data are monthly"):
        parse_period("2017", "M", "intervention")
    assert parse_period("2017Q4", "Q", "intervention") == pd.Period("2017Q4", "Q")


# ----------------------------------------------------------------------------- reading files


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_reads_chinese_csv_in_common_encodings(tmp_path, encoding, delimiter):
    text = delimiter.join(["月份", "门急诊人次", "住院率"]) + "\n"
    text += "\n".join(delimiter.join([f"2016-{m:02d}", str(1000 + m), "16.5"]) for m in range(1, 13)) + "\n"
    path = write(tmp_path / "data.csv", text, encoding)
    table = read_table(path)
    assert list(table.frame.columns) == ["月份", "门急诊人次", "住院率"]
    assert table.frame.shape == (12, 3)
    assert table.delimiter == delimiter
    assert table.encoding == ("gbk" if encoding == "gbk" else "utf-8")


def test_thousands_separators_and_missing_markers():
    frame = pd.DataFrame({"x": ["1,234", " 56 ", None]})
    assert numeric_column(frame, "x", allow_missing=True).tolist()[:2] == [1234.0, 56.0]


def test_file_errors(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(ContractError, match="is empty"):
        read_table(write(tmp_path / "empty.csv", "   \n"))
    with pytest.raises(ContractError, match="header but no data rows"):
        read_table(write(tmp_path / "header.csv", "month,visits\n"))
    with pytest.raises(ContractError, match="not a readable Excel workbook"):
        read_table(write(tmp_path / "book.xlsx", "x"))
    with pytest.raises(ContractError, match="neither UTF-8 nor GBK"):
        (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81\x00\xfe\xff" * 20)
        read_table(tmp_path / "bin.csv")


# ----------------------------------------------------------------------------- the contract, rule by rule


def test_valid_series_is_sorted_and_typed():
    frame = series_frame().iloc[::-1]
    ts = validate_time_series(frame, outcomes=["visits"], intervention="2017-01")
    assert ts.frame.index.is_monotonic_increasing
    assert ts.frame["visits"].dtype == float
    assert (ts.n_pre, ts.n_post) == (12, 12)
    assert ts.frequency == "M"


def test_default_outcomes_are_the_numeric_columns():
    frame = series_frame(note=["a"] * 24, rate_pct=[50.0] * 23 + [51.0])
    ts = validate_time_series(frame, intervention="2017-01")
    assert ts.outcomes == ("visits", "rate_pct")


RULES = [
    ("missing time column", lambda f: f.rename(columns={"month": "mnth"}), {}, r"column 'month' not found \(did you mean 'mnth'\?\)"),
    ("misspelled outcome", lambda f: f, {"outcomes": ["vists"]}, r"column 'vists' not found \(did you mean 'visits'\?\)"),
    ("non-numeric value", lambda f: f.assign(visits=f["visits"].astype(object).where(f.index != 4, "n.a.")), {},
     r"non-numeric value 'n.a.' in row 6"),
    ("missing value", lambda f: f.assign(visits=f["visits"].where(f.index != 2)), {}, r"missing a value in row 4"),
    ("negative count", lambda f: f.assign(visits=f["visits"].where(f.index != 0, -5)), {}, r"-5 in row 2, below 0; counts and expenditures cannot be negative"),
    ("percentage above 100", lambda f: f.assign(control_rate=[50.0] * 23 + [130.0]), {"outcomes": ["control_rate"]}, r"130 in row 25, above 100"),
    ("duplicate period", lambda f: f.assign(month=f["month"].where(f.index != 5, "2016-05")), {}, r"period 2016-05 appears twice .* \(row 6 and row 7\)"),
    ("gap", lambda f: f.drop(index=[7, 8]), {}, r"gap: 2016-08 and 1 more missing after 2016-07"),
    ("intervention outside", lambda f: f, {"intervention": "2020-01"}, r"intervention 2020-01 is outside the data \(2016-01 to 2017-12\)"),
    ("too few post periods", lambda f: f, {"intervention": "2017-11"}, r"leaves 22 periods before and 2 from it on"),
    ("intervention in another frequency", lambda f: f, {"intervention": "2017Q1"}, r"quarterly .* data are monthly"),
    ("constant outcome", lambda f: f.assign(visits=7), {}, r"same value in every row"),
    ("unreadable period", lambda f: f.assign(month=f["month"].where(f.index != 3, "Apr-16")), {}, r"'Apr-16' in row 5"),
    ("empty frame", lambda f: f.iloc[:0], {}, r"no rows"),
    ("offset not positive", lambda f: f.assign(pop=[0.0] + [1e5] * 23), {"offset": "pop"}, r"offset column 'pop' is 0 in row 2"),
]


@pytest.mark.parametrize("name, change, kwargs, message", RULES, ids=[r[0] for r in RULES])
def test_contract_rule(name, change, kwargs, message):
    frame = change(series_frame())
    arguments = {"outcomes": ["visits"], "intervention": "2017-01"} | kwargs
    with pytest.raises((ContractError, ParameterError), match=message) as error:
        validate_time_series(frame, **arguments)
    assert "\n" not in str(error.value)


def test_validation_does_not_modify_the_frame():
    frame = series_frame().iloc[::-1]
    before = frame.copy()
    validate_time_series(frame, outcomes=["visits"], intervention="2017-01")
    pd.testing.assert_frame_equal(frame, before)
