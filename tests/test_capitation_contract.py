"""The person-year contract: one test per rule (a one-line message naming column, row and fix,
the input file untouched), the same rule firing from the statistics pass and from the standalone
check, the shared reading rules (GBK, BOM, semicolons, missing-value markers, thousands
separators, Excel), and the one-scan behaviour (the offending row is looked up only on failure)."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from payreform import capitation as cap
from payreform.contracts import person_years as contract
from payreform.errors import ContractError, ParameterError
from payreform.io.duckdb_source import DuckDBSource


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def contract_rows() -> pd.DataFrame:
    rows = []
    for i in range(1, 13):
        for year in (2010, 2011):
            rows.append({"person_id": f"P{i:03d}", "year": year,
                         "scheme": "UEBHI" if i <= 6 else "URRBHI", "gender": 1 + i % 2,
                         "age": 20 + 5 * i, "ocsd": ["", "DM", "DM;hypertension"][i % 3],
                         "inpatient_prev_year": i % 2, "los": 4 * (i % 2),
                         "fund_exp": 100.0 * i + year % 7})
    return pd.DataFrame(rows)


def edit(frame: pd.DataFrame, position: int, column: str, value) -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = frame[column].astype(object)
    frame.iloc[position, frame.columns.get_loc(column)] = value
    return frame


KNOWN_SCHEMES = {"scheme_codes": {"UEBHI": "UEBHI", "URRBHI": "URRBHI"}}
KNOWN_DISEASES = {"diseases": ["DM", "hypertension", "CHD"]}

BAD_INPUTS = [
    ("age below 0", lambda f: edit(f, 4, "age", -1), {},
     r"column 'age' has -1 in row 6, outside 0-120"),
    ("age above 120", lambda f: edit(f, 5, "age", 121), {},
     r"column 'age' has 121 in row 7, outside 0-120"),
    ("unknown scheme", lambda f: edit(f, 2, "scheme", "UEBHX"), KNOWN_SCHEMES,
     r"column 'scheme' has the unknown code 'UEBHX' in row 4 \(did you mean 'UEBHI'\?\); map "
     r"every scheme code with schemes=CODE:LABEL"),
    ("unknown gender", lambda f: edit(f, 3, "gender", 3), {},
     r"column 'gender' has the unknown code '3' in row 5; use 1 \(male\) or 2 \(female\)"),
    ("disease not in the list", lambda f: edit(f, 6, "ocsd", "DM;hypertensio"), KNOWN_DISEASES,
     r"column 'ocsd' has the disease code 'hypertensio' in row 8 \(did you mean "
     r"'hypertension'\?\), which the diseases file does not list"),
    ("wrong separator", lambda f: edit(f, 6, "ocsd", "DM,CHD"), {},
     r"column 'ocsd' has 'DM,CHD' in row 8; separate disease codes with ';' \(not ','\), or set "
     r"ocsd_separator=,"),
    ("empty code", lambda f: edit(f, 7, "ocsd", "DM;"), {},
     r"column 'ocsd' has an empty disease code in row 9 \('DM;'\)"),
    ("disease twice", lambda f: edit(f, 6, "ocsd", "DM;dm"), {},
     r"column 'ocsd' lists 'DM' more than once in row 8"),
    ("duplicate person-year", lambda f: edit(f, 2, "person_id", "P001"), {},
     r"person 'P001' appears more than once in year 2010 \(row 2 and row 4\)"),
    ("negative expenditure", lambda f: edit(f, 9, "fund_exp", -3.5), {},
     r"column 'fund_exp' has -3.5 in row 11, below 0; expenditures cannot be negative"),
    ("huge expenditure", lambda f: edit(f, 9, "fund_exp", 5e13), {},
     r"column 'fund_exp' has 50000000000000 in row 11, more than a person can spend"),
    ("text expenditure", lambda f: edit(f, 10, "fund_exp", "12元"), {},
     r"column 'fund_exp' has the non-numeric value '12元' in row 12; it must hold numbers only"),
    ("misspelled column", lambda f: f.rename(columns={"fund_exp": "fund_exps"}), {},
     r"column 'fund_exp' not found \(did you mean 'fund_exps'\?\).*set fund_exp_column="),
    ("text in a number column", lambda f: edit(f, 7, "age", "forty"), {},
     r"column 'age' has the non-numeric value 'forty' in row 9; it must hold numbers only"),
    ("empty required value", lambda f: edit(f, 8, "gender", None), {},
     r"column 'gender' is empty in row 10"),
    ("missing-value marker", lambda f: edit(f, 8, "person_id", "NA"), {},
     r"column 'person_id' is empty in row 10"),
    ("inpatient code", lambda f: edit(f, 1, "inpatient_prev_year", 2), {},
     r"column 'inpatient_prev_year' has 2 in row 3; use 1"),
    ("stay missing for an inpatient", lambda f: edit(f, 1, "los", None), {},
     r"column 'los' is empty in row 3 although 'inpatient_prev_year' is 1"),
    ("fractional stay", lambda f: edit(f, 1, "los", 2.5), {},
     r"column 'los' has 2.5 in row 3; the length of stay must be whole days"),
    ("fractional year", lambda f: edit(f, 1, "year", 2010.5), {},
     r"column 'year' has 2010.5 in row 3; years must be whole numbers"),
    ("no rows", lambda f: f.iloc[:0], {}, r"the data have no rows"),
]


@pytest.mark.parametrize("label, change, options, message", BAD_INPUTS,
                         ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gets_a_one_line_error_and_the_file_is_untouched(contract_rows, tmp_path,
                                                                   label, change, options,
                                                                   message):
    path = tmp_path / "bad.csv"
    change(contract_rows).to_csv(path, index=False)
    before = sha256(path)
    with pytest.raises(ContractError, match=message) as error:
        cap.cell_statistics(path, **options)
    assert "\n" not in str(error.value)
    assert sha256(path) == before
    # the same rule fires from a DataFrame and from the standalone check
    with pytest.raises(ContractError, match=message):
        cap.cell_statistics(change(contract_rows), **options)
    standalone = {"scheme_codes": options.get("scheme_codes"),
                  "diseases": options.get("diseases")}
    with pytest.raises(ContractError, match=message):
        cap.validate_person_years(path, **standalone)


def test_good_rows_pass_and_parquet_row_numbers(contract_rows, tmp_path):
    result = cap.validate_person_years(contract_rows, years=(2010, 2011))
    assert result.rows == len(contract_rows) and result.years == (2010, 2011)
    assert result.table()["persons"].tolist() == [6, 6, 6, 6]
    path = tmp_path / "bad.parquet"
    bad = contract_rows.copy()
    bad.loc[10, "age"] = 150
    bad.to_parquet(path, index=False)
    with pytest.raises(ContractError, match="column 'age' has 150 in row 12"):
        cap.cell_statistics(path)
    # a year every scheme must have
    with pytest.raises(ContractError, match=r"scheme URRBHI has no rows for year 2010 \(it has "
                                            r"2011\)"):
        cap.validate_person_years(contract_rows[~((contract_rows["scheme"] == "URRBHI")
                                                  & (contract_rows["year"] == 2010))],
                                  years=(2010, 2011))


def test_reading_rules_shared_with_read_table(contract_rows, tmp_path):
    """GBK with semicolons, BOM, tabs, missing markers and thousands separators read the same."""
    reference = cap.cell_statistics(contract_rows)
    gbk = tmp_path / "gbk.csv"
    coded = contract_rows.assign(
        scheme=contract_rows["scheme"].map({"UEBHI": "职工医保", "URRBHI": "居民医保"}),
        gender=contract_rows["gender"].map({1: "男", 2: "女"}))
    coded.to_csv(gbk, index=False, encoding="gbk", sep=";")
    before = sha256(gbk)
    codes = {"职工医保": "UEBHI", "居民医保": "URRBHI"}
    read = cap.cell_statistics(gbk, scheme_codes=codes)
    pd.testing.assert_frame_equal(read.atoms, reference.atoms, check_exact=True)
    assert sha256(gbk) == before
    with DuckDBSource(gbk) as source:
        assert (source.encoding, source.delimiter) == ("gbk", ";")
    bom = tmp_path / "bom.tsv"
    marked = contract_rows.assign(
        ocsd=contract_rows["ocsd"].replace("", "-"),
        fund_exp=contract_rows["fund_exp"].map(lambda v: f"{v * 10:,.2f}"))
    marked.to_csv(bom, index=False, sep="\t", encoding="utf-8-sig")
    read = cap.cell_statistics(bom)
    expected = cap.cell_statistics(contract_rows.assign(fund_exp=contract_rows["fund_exp"] * 10))
    pd.testing.assert_frame_equal(read.atoms, expected.atoms, check_exact=True)


def test_excel_workbooks_are_read(contract_rows, tmp_path):
    path = tmp_path / "records.xlsx"
    renamed = contract_rows.rename(columns={"person_id": "参保人编号", "year": "年度"})
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"说明": ["导出说明"]}).to_excel(writer, sheet_name="notes", index=False)
        renamed.to_excel(writer, sheet_name="data", index=False)
    before = sha256(path)
    columns = {"person_id": "参保人编号", "year": "年度"}
    read = cap.cell_statistics(path, columns=columns, sheet="data")
    pd.testing.assert_frame_equal(read.atoms, cap.cell_statistics(contract_rows).atoms,
                                  check_exact=True)
    assert sha256(path) == before
    with DuckDBSource(path, sheet="data") as source:
        assert source.sha256 == before and source.sheet == "data"
    with pytest.raises(ContractError, match="column 'person_id' not found"):
        cap.cell_statistics(path)  # the first sheet holds the notes
    with pytest.raises(ParameterError, match="no sheet 'date'.*did you mean 'data'"):
        cap.cell_statistics(path, sheet="date")


def test_unreadable_files(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(ContractError, match="file 'empty.csv' is empty"):
        cap.cell_statistics(tmp_path / "empty.csv")
    (tmp_path / "book.xlsx").write_bytes(b"PK")
    with pytest.raises(ContractError, match="not a readable Excel workbook"):
        cap.cell_statistics(tmp_path / "book.xlsx")
    with pytest.raises(ContractError, match="does not exist"):
        cap.cell_statistics(tmp_path / "missing.csv")
    (tmp_path / "latin.csv").write_bytes(b"\xff\xfe\x00\x01" * 100)
    with pytest.raises(ContractError, match="neither UTF-8 nor GBK"):
        cap.cell_statistics(tmp_path / "latin.csv")
    (tmp_path / "records.json").write_text("{}")
    with pytest.raises(ContractError, match="suffix '.json'"):
        cap.cell_statistics(tmp_path / "records.json")


def test_one_pass_looks_rows_up_only_on_failure(contract_rows, monkeypatch):
    """A valid file is aggregated without any row lookup; a broken one is looked up once."""
    calls = []
    original = DuckDBSource.first_row

    def spy(self, condition, value="NULL"):
        calls.append(condition)
        return original(self, condition, value)

    monkeypatch.setattr(DuckDBSource, "first_row", spy)
    queries = []
    original_query = DuckDBSource.query

    def count(self, sql):
        queries.append(sql)
        return original_query(self, sql)

    monkeypatch.setattr(DuckDBSource, "query", count)
    cap.cell_statistics(contract_rows)
    assert calls == []
    scans = [q for q in queries if "FROM raw" in q and "raw_numbered" not in q
             and "DESCRIBE" not in q]
    # one aggregate pass over the rows, one over the person and year columns (duplicates)
    assert len(scans) == 2, scans
    with pytest.raises(ContractError):
        cap.cell_statistics(edit(contract_rows, 3, "age", 300))
    assert len(calls) == 1


def test_optional_length_of_stay_and_separator(contract_rows):
    without = contract_rows.drop(columns="los")
    cells = cap.cell_statistics(without, columns={"los": None})
    assert (cells.atoms["sum_los"] == 0).all()
    screening = cap.screen_factors(cells, min_cell_size=2)
    assert screening.drop_los and "too few persons with a stay" in screening.los_reason
    assert screening.coefficients.query("term == 'los'")["suppressed"].all()
    with pytest.raises(ParameterError, match="'person_id_column' cannot be none"):
        cap.cell_statistics(contract_rows, columns={"person_id": None})
    piped = contract_rows.assign(ocsd=contract_rows["ocsd"].str.replace(";", "|"))
    a = cap.cell_statistics(piped, separator="|")
    b = cap.cell_statistics(contract_rows)
    pd.testing.assert_frame_equal(a.atoms, b.atoms, check_exact=True)
    with pytest.raises(ParameterError, match="ocsd_separator"):
        cap.cell_statistics(contract_rows, separator=";;")


def test_codes_normalised(contract_rows):
    assert contract.normal_code(" 2.0 ") == "2"
    numeric = contract_rows.assign(scheme=contract_rows["scheme"].map({"UEBHI": 310,
                                                                        "URRBHI": 390}))
    cells = cap.cell_statistics(numeric)
    assert cells.schemes == ("310", "390")
    labelled = cap.cell_statistics(numeric, scheme_codes=cap.parse_scheme_codes(
        ["310:employees", "390:residents"]))
    assert labelled.schemes == ("employees", "residents")
    with pytest.raises(ParameterError, match="CODE:LABEL"):
        cap.parse_scheme_codes(["310"])
