"""The `payreform` command: listing, synthetic data, and bad input refused before anything runs.

Each malformed file must give exit status 2, a one-line message naming the problem, no output
folder, and an input file that is byte-for-byte unchanged. Full runs are in test_youxi_run.py.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import assert_refused, sha

from payreform.cli import main
from payreform.synth import youxi


@pytest.fixture()
def runner():
    return CliRunner()


@pytest.fixture()
def good_csv(tmp_path):
    path = tmp_path / "input" / "youxi.csv"
    path.parent.mkdir()
    youxi.generate().to_csv(path, index=False)
    return path


def test_chapters_lists_parameters_and_contract(runner):
    result = runner.invoke(main, ["chapters"])
    assert result.exit_code == 0
    assert "youxi-itsa" in result.output
    for parameter in ("time_column", "intervention", "coding", "hac_lags", "seasonal"):
        assert parameter in result.output
    assert "data contract" in result.output and "no gaps" in result.output


def test_unknown_chapter_suggests(runner):
    result = runner.invoke(main, ["chapters", "youxi-its"])
    assert result.exit_code == 2
    assert "did you mean 'youxi-itsa'" in result.output


def test_synth_writes_csv_and_parquet(runner, tmp_path):
    csv = tmp_path / "y.csv"
    result = runner.invoke(main, ["synth", "youxi", "--out", str(csv), "--seed", "3"])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(csv, dtype={"month": str}), youxi.generate(seed=3), check_dtype=False)
    parquet = tmp_path / "y.parquet"
    assert runner.invoke(main, ["synth", "youxi", "--out", str(parquet)]).exit_code == 0
    assert len(pd.read_parquet(parquet)) == 46
    again = runner.invoke(main, ["synth", "youxi", "--out", str(csv)])
    assert again.exit_code == 2 and "--overwrite" in again.output
    scaled = runner.invoke(main, ["synth", "youxi", "--out", str(tmp_path / "z.csv"), "--scale", "2"])
    assert scaled.exit_code == 2 and "fixed-length series" in scaled.output
    unknown = runner.invoke(main, ["synth", "youxii", "--out", str(tmp_path / "z.csv")])
    assert unknown.exit_code == 2 and "did you mean 'youxi'" in unknown.output


def _edit(frame: pd.DataFrame, how: str) -> pd.DataFrame:
    frame = frame.copy()
    if how == "rename_month":
        return frame.rename(columns={"month": "period"})
    if how == "text_value":
        frame["hospitalizations"] = frame["hospitalizations"].astype(object)
        frame.loc[10, "hospitalizations"] = "n.a."
        return frame
    if how == "blank_value":
        frame["hospitalizations"] = frame["hospitalizations"].astype(object)
        frame.loc[3, "hospitalizations"] = ""
        return frame
    if how == "negative":
        frame.loc[5, "cost_per_hospitalization"] = -12.0
        return frame
    if how == "duplicate_month":
        frame.loc[8, "month"] = frame.loc[7, "month"]
        return frame
    if how == "gap":
        return frame.drop(index=[20])
    if how == "percent_over_100":
        frame["readmission_rate"] = 5.0
        frame.loc[30, "readmission_rate"] = 105.0
        return frame
    if how == "bad_month":
        frame.loc[2, "month"] = "2016-13"
        return frame
    if how == "mixed_frequency":
        frame.loc[2, "month"] = "2016Q2"
        return frame
    raise ValueError(how)


BAD_FILES = [
    ("rename_month", [], r"column 'month' not found; the file has: period, outpatient_emergency_visits"),
    ("text_value", [], r"column 'hospitalizations' has the non-numeric value 'n.a.' in row 12"),
    ("blank_value", [], r"column 'hospitalizations' is missing a value in row 5"),
    ("negative", [], r"column 'cost_per_hospitalization' has -12 in row 7, below 0"),
    ("duplicate_month", [], r"period 2016-09 appears twice in column 'month' \(row 9 and row 10\)"),
    ("gap", [], r"gap: 2017-10 missing after 2017-09"),
    ("percent_over_100", [], r"column 'readmission_rate' has 105 in row 32, above 100"),
    ("bad_month", [], r"'2016-13' in row 4, which is not a month"),
    ("mixed_frequency", [], r"mixes monthly and quarterly periods"),
    (None, ["--set", "intervention=2021-01"], r"intervention 2021-01 is outside the data \(2016-02 to 2019-11\)"),
    (None, ["--set", "intervention=2016-04"], r"leaves 2 periods before and 44 from it on"),
    (None, ["--set", "outcomes=hospitalisations"], r"column 'hospitalisations' not found \(did you mean 'hospitalizations'\?\)"),
    (None, ["--set", "coding=zero_at_interventon"], r"parameter 'coding' is 'zero_at_interventon'.*did you mean 'zero_at_intervention'"),
    (None, ["--set", "hac_lag=3"], r"no parameter 'hac_lag' \(did you mean 'hac_lags'\?\)"),
    (None, ["--set", "seed=abc"], r"--set seed='abc': expected a whole number"),
    (None, ["--set", "horizon=40"], r"parameter 'horizon' is 40; it must lie between 0 and 25"),
    (None, ["--set", "offset=population"], r"column 'population' not found"),
    (None, ["--set", "model=quasipoisson", "--set", "log=true"], r"parameter 'log' must be false with model=quasipoisson"),
]


@pytest.mark.parametrize("edit, settings, message", BAD_FILES,
                         ids=[e or s[1] for e, s, _ in BAD_FILES])
def test_bad_input_is_refused_before_anything_runs(runner, good_csv, tmp_path, edit, settings, message):
    path = good_csv
    if edit is not None:
        frame = _edit(pd.read_csv(good_csv, dtype={"month": str}), edit)
        path = good_csv.with_name(f"{edit}.csv")
        frame.to_csv(path, index=False)
    assert_refused("youxi-itsa", path, tmp_path / "out", ["--set", "intervention=2017-10", *settings], message)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"month,visits\n", "header but no data rows"),
    (b"\x81\xff\xfe" * 50, "neither UTF-8 nor GBK"),
])
def test_unreadable_files(runner, tmp_path, content, message):
    path = tmp_path / "input" / "bad.csv"
    path.parent.mkdir()
    path.write_bytes(content)
    result = runner.invoke(main, ["run", "youxi-itsa", "--data", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and message in result.output
    assert path.read_bytes() == content


def test_annual_data_with_seasonal_adjustment_is_refused(runner, tmp_path):
    path = tmp_path / "input" / "annual.csv"
    path.parent.mkdir()
    pd.DataFrame({"year": range(2008, 2020), "admissions": range(100, 112)}).to_csv(path, index=False)
    result = runner.invoke(main, ["run", "youxi-itsa", "--data", str(path), "--out", str(tmp_path / "out"),
                                  "--set", "time_column=year", "--set", "intervention=2014",
                                  "--set", "seasonal=ratio_to_moving_average"])
    assert result.exit_code == 2
    assert "parameter 'seasonal' is ratio_to_moving_average but the data are annual" in result.output


def test_output_folder_holding_the_data_is_refused(runner, good_csv):
    before = sha(good_csv)
    result = runner.invoke(main, ["run", "youxi-itsa", "--data", str(good_csv), "--out", str(good_csv.parent)])
    assert result.exit_code == 2 and "choose a separate output folder" in result.output
    assert sha(good_csv) == before
    assert sorted(p.name for p in good_csv.parent.iterdir()) == ["youxi.csv"]


def test_missing_data_file(runner, tmp_path):
    result = runner.invoke(main, ["run", "youxi-itsa", "--data", str(tmp_path / "nope.csv"),
                                  "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "does not exist" in result.output
