"""The corpus of malformed inputs: what an analyst's file or settings can get wrong, per chapter.

Each case writes a broken file (or a good file with bad settings) into a folder; `payreform run`
must refuse it with exit status 2 and one line naming the column, row or parameter, leave the
file byte-identical and write nothing. `tests/test_malformed_inputs.py` runs them all; the table
on the book's page "Running a chapter on your own data" is generated from the messages the
command actually prints:

    python tests/malformed.py > book/_generated/malformed_inputs.md
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from payreform import synth


@dataclass(frozen=True)
class Case:
    """One malformed input: which chapter, what is wrong, how to write it, and the message expected."""

    chapter: str
    what: str
    write: Callable[[Path], Path]
    message: str  # a regular expression the one-line message must match
    settings: tuple[str, ...] = field(default_factory=tuple)


# ----------------------------------------------------------------------------- good files to break


def youxi_frame() -> pd.DataFrame:
    return synth.generate("youxi", seed=11)


def sanming_frame() -> pd.DataFrame:
    return synth.generate("sanming", seed=11)


def ccmc_frame() -> pd.DataFrame:
    return synth.generate("ccmc", seed=11)


def gz_frame() -> pd.DataFrame:
    return synth.generate("gz", seed=11, scale=0.0005)


def budget_frame() -> pd.DataFrame:
    return pd.DataFrame({"year": range(2010, 2016), "spending_10k": [30_000.0, 32_400, 34_900, 37_800, 40_800, 44_000],
                         "population": [362_000] * 6, "premium": [900.0, 963, 1030, 1102, 1180, 1262]})


def csv(name: str, frame: Callable[[], pd.DataFrame], edit: Callable[[pd.DataFrame], pd.DataFrame] = lambda f: f,
        **options) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        edit(frame().copy()).to_csv(path, index=False, **options)
        return path
    return write


def raw(name: str, content: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path
    return write


def workbook(name: str, rows: list[list], merge: str | None = None) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "data"
        for row in rows:
            sheet.append(row)
        if merge:
            sheet.merge_cells(merge)
        path = folder / name
        book.save(path)
        return path
    return write


def at(frame: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return frame


MONTHS = [f"2015-{m:02d}" for m in range(1, 13)] + [f"2016-{m:02d}" for m in range(1, 13)]

# ----------------------------------------------------------------------------- the corpus

YOUXI = ("--set", "intervention=2017-10")
CASES: list[Case] = [
    # --- reading the file (every chapter reads the same way)
    Case("youxi-itsa", "an empty file", raw("empty.csv", b""), r"file 'empty.csv' is empty", YOUXI),
    Case("youxi-itsa", "a header and no rows", raw("header.csv", b"month,visits\n"),
         r"has a header but no data rows", YOUXI),
    Case("youxi-itsa", "bytes that are neither UTF-8 nor GBK", raw("binary.csv", b"\x81\xff\xfe" * 50),
         r"neither UTF-8 nor GBK", YOUXI),
    Case("youxi-itsa", "an SPSS file", raw("survey.sav", b"$FL2"), r"has suffix '\.sav'; use a \.csv, \.xlsx", YOUXI),
    Case("youxi-itsa", "a broken Excel workbook", raw("broken.xlsx", b"not a zip"),
         r"not a readable Excel workbook", YOUXI),
    Case("youxi-itsa", "an Excel sheet with merged header cells",
         workbook("merged.xlsx", [["月份", "门诊人次", None], [None, "本院", "分院"]]
                  + [[m, 100 + i, 50 + i] for i, m in enumerate(MONTHS)], merge="B1:C1"),
         r"empty header cell in column C \(merged header cells\?\)", YOUXI),
    Case("youxi-itsa", "an Excel sheet with two header rows",
         workbook("two_headers.xlsx", [["month", "visits", "admissions"], ["", "persons", "persons"]]
                  + [[m, 100 + i, 50 + i] for i, m in enumerate(MONTHS)]),
         r"several header rows", ("--set", "intervention=2015-07")),
    Case("youxi-itsa", "an empty Excel sheet", workbook("blank.xlsx", [[None]]), r"sheet 'data' of 'blank.xlsx' is empty",
         YOUXI),
    Case("youxi-itsa", "a sheet name that is not in the workbook",
         workbook("named.xlsx", [["month", "visits"]] + [[m, 100 + i] for i, m in enumerate(MONTHS)]),
         r"no sheet 'monthly'; its sheets are data", ("--set", "sheet=monthly", "--set", "intervention=2015-07")),
    # --- youxi-itsa: a single series
    Case("youxi-itsa", "the time column under another name",
         csv("renamed.csv", youxi_frame, lambda f: f.rename(columns={"month": "period"})),
         r"column 'month' not found; the file has: period, .*set time_column=", YOUXI),
    Case("youxi-itsa", "text in a numeric column", csv("text.csv", youxi_frame, lambda f: at(f, 10, "hospitalizations", "n.a.")),
         r"column 'hospitalizations' has the non-numeric value 'n.a.' in row 12", YOUXI),
    Case("youxi-itsa", "an empty cell in an outcome", csv("blank.csv", youxi_frame, lambda f: at(f, 3, "hospitalizations", "")),
         r"column 'hospitalizations' is missing a value in row 5", YOUXI),
    Case("youxi-itsa", "a negative cost", csv("negative.csv", youxi_frame, lambda f: at(f, 5, "cost_per_hospitalization", -12.0)),
         r"column 'cost_per_hospitalization' has -12 in row 7, below 0", YOUXI),
    Case("youxi-itsa", "the same month twice", csv("twice.csv", youxi_frame, lambda f: at(f, 8, "month", f.loc[7, "month"])),
         r"period 2016-09 appears twice in column 'month' \(row 9 and row 10\)", YOUXI),
    Case("youxi-itsa", "a month missing", csv("gap.csv", youxi_frame, lambda f: f.drop(index=[20])),
         r"gap: 2017-10 missing after 2017-09", YOUXI),
    Case("youxi-itsa", "a rate above 100", csv("rate.csv", youxi_frame,
                                               lambda f: f.assign(readmission_rate=5.0).pipe(at, 30, "readmission_rate", 105.0)),
         r"column 'readmission_rate' has 105 in row 32, above 100", YOUXI),
    Case("youxi-itsa", "a month that does not exist", csv("month13.csv", youxi_frame, lambda f: at(f, 2, "month", "2016-13")),
         r"'2016-13' in row 4, which is not a month", YOUXI),
    Case("youxi-itsa", "months and quarters mixed", csv("mixed.csv", youxi_frame, lambda f: at(f, 2, "month", "2016Q2")),
         r"mixes monthly and quarterly periods", YOUXI),
    Case("youxi-itsa", "an outcome that never changes", csv("flat.csv", youxi_frame, lambda f: f.assign(hospitalizations=7.0)),
         r"outcome 'hospitalizations' takes the same value in every row", YOUXI),
    Case("youxi-itsa", "no intervention given for a user's series", csv("no_date.csv", youxi_frame),
         r"parameter 'intervention' is needed for your data: .* \(the data run from 2016-02 to 2019-11\)"),
    Case("youxi-itsa", "an intervention after the data", csv("late.csv", youxi_frame),
         r"intervention 2021-01 is outside the data \(2016-02 to 2019-11\)", ("--set", "intervention=2021-01")),
    Case("youxi-itsa", "an intervention two months in", csv("early.csv", youxi_frame),
         r"leaves 2 periods before and 44 from it on", ("--set", "intervention=2016-04")),
    Case("youxi-itsa", "a misspelled outcome", csv("outcome.csv", youxi_frame),
         r"column 'hospitalisations' not found \(did you mean 'hospitalizations'\?\)",
         (*YOUXI, "--set", "outcomes=hospitalisations")),
    Case("youxi-itsa", "a misspelled parameter", csv("param.csv", youxi_frame),
         r"no parameter 'hac_lag' \(did you mean 'hac_lags'\?\)", (*YOUXI, "--set", "hac_lag=3")),
    Case("youxi-itsa", "a choice that does not exist", csv("choice.csv", youxi_frame),
         r"parameter 'coding' is 'zero_at_interventon'.*did you mean 'zero_at_intervention'",
         (*YOUXI, "--set", "coding=zero_at_interventon")),
    Case("youxi-itsa", "text where a number is expected", csv("seed.csv", youxi_frame),
         r"--set seed='abc': expected a whole number", (*YOUXI, "--set", "seed=abc")),
    Case("youxi-itsa", "a horizon beyond the data", csv("horizon.csv", youxi_frame),
         r"parameter 'horizon' is 40; it must lie between 0 and 25", (*YOUXI, "--set", "horizon=40")),
    Case("youxi-itsa", "a log scale for a count model", csv("loglink.csv", youxi_frame),
         r"parameter 'log' must be false with model=quasipoisson",
         (*YOUXI, "--set", "model=quasipoisson", "--set", "log=true")),
    Case("youxi-itsa", "seasonal adjustment of yearly data",
         csv("annual.csv", lambda: pd.DataFrame({"year": range(2005, 2017), "admissions": range(100, 112)})),
         r"parameter 'seasonal' is ratio_to_moving_average but the data are annual",
         ("--set", "time_column=year", "--set", "intervention=2011", "--set", "seasonal=ratio_to_moving_average")),
    Case("youxi-itsa", "interruptions out of order", csv("order.csv", youxi_frame),
         r"lists 2019-02 before 2017-10", ("--set", "intervention=2019-02,2017-10")),
    Case("youxi-itsa", "a second interruption two months after the first", csv("close.csv", youxi_frame),
         r"the segment from 2017-10 to 2017-11 keeps 2 fitted periods", ("--set", "intervention=2017-10,2017-12")),
    Case("youxi-itsa", "overlapping excluded windows", csv("windows.csv", youxi_frame),
         r"overlapping windows", (*YOUXI, "--set", "exclude=2018-01..2018-03,2018-03..2018-05")),
    Case("youxi-itsa", "the output folder is the data's folder", csv("same.csv", youxi_frame),
         r"holds the data file; choose a separate output folder", ("OUT=DATA_FOLDER", *YOUXI)),
]


def _sanming_cases() -> list[Case]:
    def drop_month(f: pd.DataFrame) -> pd.DataFrame:
        return f.drop(index=f.index[(f["institution"] == "community") & (f["month"] == "2017-03")])

    return [
        Case("sanming-itsa", "a group missing a month", csv("group_gap.csv", sanming_frame, drop_month),
             r"group 'community'.*2017-03", ("--set", "intervention=2017-10")),
        Case("sanming-itsa", "a comparison group that is not in the data", csv("compare.csv", sanming_frame),
             r"compare.*'hospitals'.*did you mean 'hospital'",
             ("--set", "intervention=2017-10", "--set", "compare=hospitals,community")),
        Case("sanming-itsa", "the group column under another name",
             csv("group_col.csv", sanming_frame, lambda f: f.rename(columns={"institution": "机构"})),
             r"column 'institution' not found", ("--set", "intervention=2017-10", "--set", "group_column=institution")),
    ]


def _budget_cases() -> list[Case]:
    return [
        Case("sanming-budget", "a year missing", csv("budget_gap.csv", budget_frame, lambda f: f.drop(index=[2])),
             r"2012", ("--set", "spending_column=spending_10k")),
        Case("sanming-budget", "negative spending",
             csv("budget_negative.csv", budget_frame, lambda f: at(f, 1, "spending_10k", -5.0)),
             r"'spending_10k'.*-5.*row 3", ("--set", "spending_column=spending_10k")),
        Case("sanming-budget", "no spending column", csv("budget_missing.csv", budget_frame,
                                                         lambda f: f.rename(columns={"spending_10k": "cost"})),
             r"column 'spending'.*not found"),
    ]


def _ccmc_cases() -> list[Case]:
    def varying(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[(f["county_id"] == 3) & (f["year"] == 2021), "treated"] = 1 - f.loc[f["county_id"] == 3, "treated"].iloc[0]
        return f

    return [
        Case("ccmc-did", "a 0/1 treatment and no adoption year for a user's panel", csv("no_base.csv", ccmc_frame),
             r"did_base"),
        Case("ccmc-did", "a treatment that changes within a county", csv("varying.csv", ccmc_frame, varying),
             r"column 'treated' changes within unit '3' \(1 in row 12, 0 in row 15\)", ("--set", "did_base=2020")),
        Case("ccmc-did", "every county treated", csv("all_treated.csv", ccmc_frame, lambda f: f.assign(treated=1)),
             r"no control unit", ("--set", "did_base=2020")),
        Case("ccmc-did", "a county-year twice", csv("dup.csv", ccmc_frame, lambda f: pd.concat([f, f.iloc[[5]]])),
             r"unit '2' has two rows for year 2018 \(row 7 and row 2642\)", ("--set", "did_base=2020")),
        Case("ccmc-did", "a fractional year", csv("year.csv", ccmc_frame, lambda f: at(f, 4, "year", 2022.5)),
             r"column 'year' has 2022.5 in row 6; years must be whole numbers", ("--set", "did_base=2020")),
        Case("ccmc-did", "an adoption year that is not in the panel", csv("base.csv", ccmc_frame),
             r"did_base 2025 is not a year", ("--set", "did_base=2025")),
    ]


def _gz_cases() -> list[Case]:
    def duplicate(f: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([f, f.iloc[[0]]], ignore_index=True)

    return [
        Case("gz-capitation", "a gender code 3", csv("gender.csv", gz_frame, lambda f: at(f, 6, "gender", 3)),
             r"gender.*3.*row 8"),
        Case("gz-capitation", "an age of 130", csv("age.csv", gz_frame, lambda f: at(f, 9, "age", 130)),
             r"age.*130.*row 11"),
        Case("gz-capitation", "negative fund expenditure", csv("fund.csv", gz_frame, lambda f: at(f, 2, "fund_exp", -1.0)),
             r"fund_exp.*-1.*row 4"),
        Case("gz-capitation", "a person twice in one year", csv("twice_gz.csv", gz_frame, duplicate),
             r"person.*twice|two rows|appears"),
        Case("gz-capitation", "a misspelled column", csv("column_gz.csv", gz_frame,
                                                         lambda f: f.rename(columns={"fund_exp": "fund_expense"})),
             r"column 'fund_exp' not found.*fund_expense"),
    ]


CASES += _sanming_cases() + _budget_cases() + _ccmc_cases() + _gz_cases()


def run_case(case: Case, folder: Path):
    """Write the case's file into ``folder/input`` and run `payreform run` on it; return (result, data, out)."""
    from click.testing import CliRunner

    from payreform.cli import main

    inputs = folder / "input"
    inputs.mkdir(parents=True, exist_ok=True)
    data = case.write(inputs)
    settings = list(case.settings)
    out = folder / "out"
    if settings and settings[0] == "OUT=DATA_FOLDER":
        settings, out = settings[1:], inputs
    result = CliRunner().invoke(main, ["run", case.chapter, "--data", str(data), "--out", str(out), *settings])
    return result, data, out


def markdown_table() -> str:
    """The table of the book's page: chapter, what the input had, what `payreform run` says."""
    lines = ["| chapter | what the input had | what `payreform run` says (exit status 2) |", "|---|---|---|"]
    for case in CASES:
        with tempfile.TemporaryDirectory() as scratch:
            result, _, _ = run_case(case, Path(scratch))
            message = result.output.strip().splitlines()[-1].removeprefix("error: ").replace(scratch, "…")
        settings = " ".join(s for s in case.settings if s != "--set" and not s.startswith("OUT="))
        what = case.what + (f" (`{settings}`)" if settings else "")
        lines.append(f"| `{case.chapter}` | {what} | {message.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - writes the book's table
    np.seterr(all="ignore")
    sys.stdout.write(markdown_table())
