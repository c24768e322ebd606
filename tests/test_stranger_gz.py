"""The capitation chapter on stranger cities, generated here (seeded, nothing downloaded):

- ``cn``: Chinese headers, three years, numeric scheme codes, ICD-10-like disease codes with a
  mapping file of names, GBK CSV;
- ``xlsx``: an Excel workbook with other English headers, two years long before the paper's, a
  bureau's numeric disease codes with a mapping file that fixes the groups, no length of stay;
- ``tiny``: a Parquet file of a small city whose cells hold a handful of persons.

Each is run with only its column names (and its diseases file) set. The numbers are checked
against independent computations (statsmodels OLS on the person-level frame, brute-force
k-means over every partition, pandas group means), nothing published rests on fewer than
min_cell_size persons, and the report holds none of the book's facts absent from the data."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from payreform import capitation as cap
from payreform.chapters import gz_capitation as chapter

MIN = 10
LOWER = [0, 6, 11, 16, 26, 36, 46, 56, 61, 66, 71, 76, 81, 86, 91, 96, 101]
CONTRACT = ("person_id", "year", "scheme", "gender", "age", "ocsd", "inpatient_prev_year", "los",
            "fund_exp")
BOOK_FACTS = ("GZ", "2023", "2024", "UEBHI", "URRBHI", "9 million", "SPEC", "Sun, He",
              "Table 7", "paper")


def make_city(seed: int, years: tuple[int, ...], schemes: dict, diseases: dict, n: int,
              multi_share: float = 0.06) -> pd.DataFrame:
    """Person-years with the contract's columns: expenditure grows with age, is higher for
    women and the hospitalised, and each disease adds its cost; ~5% of persons spend nothing."""
    rng = np.random.default_rng(seed)
    codes = list(diseases)
    weights = np.array([diseases[c][1] for c in codes], dtype=float)
    rows, pid = [], 0
    for y, year in enumerate(years):
        for scheme, (level, share) in schemes.items():
            for _ in range(int(n * share)):
                pid += 1
                age = int(np.clip(rng.normal(50, 18), 0, 104))
                draw = rng.random()
                if draw < 0.8:
                    held = ""
                elif draw < 1 - multi_share:
                    held = str(rng.choice(codes, p=weights / weights.sum()))
                else:
                    held = ";".join(rng.choice(codes, size=int(rng.integers(2, 4)), replace=False,
                                               p=weights / weights.sum()))
                gender = int(rng.integers(1, 3))
                inpatient = int(rng.random() < 0.04 + age / 800)
                mean = level * (1 + 0.03 * (age - 40) / 10) * (1.1 if gender == 2 else 1.0)
                mean += sum(diseases[c][0] for c in held.split(";") if c) + 500 * inpatient
                mean *= 1.06 ** y
                value = 0.0 if rng.random() < 0.05 else mean * rng.lognormal(-0.32, 0.8)
                rows.append({"person_id": f"{scheme}-{pid:06d}", "year": year, "scheme": scheme,
                             "gender": gender, "age": age, "ocsd": held,
                             "inpatient_prev_year": inpatient,
                             "los": int(rng.integers(1, 20)) if inpatient else 0,
                             "fund_exp": round(float(value), 2)})
    return pd.DataFrame(rows)


CN_HEADERS = {"person_id": "参保人编号", "year": "年度", "scheme": "险种", "gender": "性别",
              "age": "年龄", "ocsd": "慢特病", "inpatient_prev_year": "上年住院",
              "los": "住院天数", "fund_exp": "统筹基金支出"}
XLSX_HEADERS = {"person_id": "pid", "year": "yr", "scheme": "insurance", "gender": "sex",
                "age": "age_years", "ocsd": "chronic", "inpatient_prev_year": "hosp_prev",
                "fund_exp": "fund_paid"}


def city_cn(folder):
    diseases = {"I10": (600, 10), "E11.9": (900, 6), "J44": (1200, 2), "N18": (3000, 1),
                "G40": (700, 1), "I25.1": (1000, 3), "M05": (1500, 1)}
    frame = make_city(31, (2019, 2020, 2021), {"310": (900, 0.7), "390": (250, 0.3)},
                      diseases, 3000)
    frame["gender"] = frame["gender"].map({1: "男", 2: "女"})
    data = folder / "结算数据.csv"
    frame.rename(columns=CN_HEADERS).to_csv(data, index=False, encoding="gbk")
    mapping = folder / "病种.csv"
    pd.DataFrame({"编码": list(diseases), "名称": ["高血压", "糖尿病", "慢阻肺", "慢性肾病",
                                                   "癫痫", "冠心病", "类风湿"]}).to_csv(
        mapping, index=False, encoding="utf-8-sig")
    settings = {f"{k}_column": v for k, v in CN_HEADERS.items()} | {"diseases": str(mapping)}
    return frame.assign(gender=frame["gender"].map({"男": 1, "女": 2})), data, settings


def city_xlsx(folder):
    diseases = {"1101": (500, 8), "1102": (800, 5), "1203": (1300, 3), "1204": (2500, 2),
                "1305": (4000, 1), "1306": (650, 3)}
    frame = make_city(47, (2008, 2009), {"E": (1100, 0.6), "R": (300, 0.4)}, diseases, 2500)
    data = folder / "export.xlsx"
    frame.drop(columns="los").rename(columns=XLSX_HEADERS).to_excel(data, index=False)
    mapping = folder / "groups.csv"
    pd.DataFrame({"code": list(diseases), "name": [f"disease {c}" for c in diseases],
                  "group": [3, 3, 2, 1, 1, 3]}).to_csv(mapping, index=False)
    settings = {f"{k}_column": v for k, v in XLSX_HEADERS.items()} | {
        "los_column": "none", "diseases": str(mapping)}
    return frame, data, settings


def city_tiny(folder):
    diseases = {"A1": (700, 5), "B2": (1400, 3), "C3": (2600, 1), "D4": (400, 1)}
    frame = make_city(5, (1999, 2000), {"Z": (500, 1.0)}, diseases, 260)
    data = folder / "tiny.parquet"
    frame.to_parquet(data, index=False)
    return frame, data, {}


CITIES = {"cn": city_cn, "xlsx": city_xlsx, "tiny": city_tiny}


@pytest.fixture(scope="module", params=list(CITIES))
def stranger(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    frame, data, settings = CITIES[request.param](folder)
    result = chapter.run(chapter.prepare(str(data), settings))
    return request.param, frame, data, settings, result


def _cells(frame: pd.DataFrame, groups: dict, scheme: str) -> pd.DataFrame:
    part = frame[frame["scheme"].astype(str) == scheme].copy()
    band = pd.cut(part["age"], bins=[*LOWER, 200], right=False,
                  labels=list(cap.AGE_BANDS)).astype(str)
    part["age_group"] = band.map(groups["age_group_of_band"]).astype(int)
    count = part["ocsd"].map(lambda t: 0 if t == "" else len(t.split(";")))
    part["ocsd_group"] = np.select(
        [count == 0, count == 1, count == 2],
        [0, part["ocsd"].map(groups["ocsd_group_of_disease"]).fillna(0),
         groups["ocsd_group_of_two"]], groups["ocsd_group_of_three"]).astype(int)
    return part


def test_defaults_come_from_the_data(stranger):
    name, frame, _, _, result = stranger
    s = result.settings
    years = sorted(frame["year"].unique())
    assert (s["base_year"], s["target_year"]) == (years[-2], years[-1])
    assert s.source("target_year") == "from the data"
    assert s["schemes"] == sorted(frame["scheme"].astype(str).unique())
    expected_groups = "file" if name == "xlsx" else "clustered"
    assert s["groups"] == expected_groups and s.source("groups") == "from the data"
    if name == "cn":
        assert result.warnings() and any("2019" in w and "not used" in w
                                         for w in result.warnings())


def test_payment_model_equals_statsmodels_on_the_persons(stranger):
    name, frame, _, _, result = stranger
    standards = result.analysis.standards
    groups = result.diagnostics()["model_groups"]
    target = result.years[1]
    for scheme in standards.schemes:
        part = _cells(frame, groups[scheme], scheme)
        part = part[part["year"] == target]
        terms = standards.terms(scheme)
        design = {"intercept": np.ones(len(part))}
        for term in terms[1:]:
            bits = term.split("_")
            if term.startswith("gender_age_"):
                column = (part["gender"] == int(bits[2])) & (part["age_group"] == int(bits[3]))
            elif term.startswith("age_"):
                column = part["age_group"] == int(bits[1])
            elif term.startswith("ocsd_"):
                column = part["ocsd_group"] == int(bits[1])
            elif term == "inpatient_1":
                column = part["inpatient_prev_year"] == 1
            else:
                column = part["los"]
            design[term] = np.asarray(column, dtype=float)
        design = pd.DataFrame(design)
        assert (design.iloc[:, 1:].astype(bool).sum() >= MIN).all()
        reference = sm.OLS(part["fund_exp"].to_numpy(), design).fit(cov_type="HC1")
        ours = standards.params(scheme, target)[design.columns]
        np.testing.assert_allclose(ours.to_numpy(), reference.params.to_numpy(), atol=1e-7)
        # observed cell means against a pandas group mean
        grid = standards.standards_table(scheme, target).set_index(
            ["gender", "age_group", "ocsd_group", "inpatient"])
        means = part.groupby(["gender", "age_group", "ocsd_group", "inpatient_prev_year"])[
            "fund_exp"].agg(["mean", "size"])
        for key, row in means.iterrows():
            shown = grid.loc[key, "observed_mean"]
            if row["size"] >= MIN:
                assert shown == pytest.approx(row["mean"], rel=1e-9)
            else:
                assert np.isnan(shown)


def _brute_force(z: np.ndarray, k: int) -> float:
    best = np.inf
    n = len(z)
    for labels in np.ndindex(*(k,) * n):
        labels = np.array(labels)
        if len(set(labels)) != k:
            continue
        within = sum(((z[labels == g] - z[labels == g].mean()) ** 2).sum() for g in range(k))
        best = min(best, within)
    return best


def test_disease_groups_are_the_exact_optimum(stranger):
    name, frame, _, _, result = stranger
    grouping = result.analysis.disease_groups
    target = result.years[1]
    for scheme in grouping.schemes:
        items = grouping.items[(grouping.items["scheme"] == scheme)
                               & grouping.items["group"].notna()]
        if len(items) < 3 or len(items) > 7:
            continue
        part = frame[(frame["scheme"].astype(str) == scheme) & (frame["year"] == target)]
        single = part[(part["ocsd"] != "") & ~part["ocsd"].str.contains(";")]
        means = []
        for members in items["members"]:
            chosen = single[single["ocsd"].isin(members.split(", "))]
            means.append(chosen["fund_exp"].mean())
        means = np.array(means)
        np.testing.assert_allclose(items["per_capita"].to_numpy(), means, rtol=1e-9)
        z = (means - means.mean()) / means.std(ddof=1)
        k = grouping.k(scheme)
        labels = items["group"].to_numpy(int)
        within = sum(((z[labels == g] - z[labels == g].mean()) ** 2).sum()
                     for g in set(labels))
        assert within == pytest.approx(_brute_force(z, k), abs=1e-9)


def test_nothing_published_rests_on_few_persons(stranger, tmp_path):
    _, _, _, _, result = stranger
    result.write(tmp_path, figures=False)
    document = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    for row in document["estimates"]:
        if row["estimate"] is not None:
            assert row["persons"] >= MIN, row
    for table in (pd.read_csv(p) for p in (tmp_path / "tables").glob("*.csv")):
        if "persons" in table.columns:
            shown = table["persons"].dropna()
            assert (shown >= MIN).all()
    standards = [r for r in document["estimates"] if r["model"] == "standard"]
    assert all(r["estimate"] >= 0 for r in standards)


def test_summary_speaks_about_the_data(stranger):
    name, frame, _, _, result = stranger
    text = result.summary() + "\n".join(result.warnings())
    for fact in BOOK_FACTS:
        assert fact not in text, fact
    base, target = result.years
    assert f"estimated for {base} and {target}" in text
    for scheme in result.analysis.standards.schemes:
        assert scheme in text


def visible_text(html: str) -> str:
    """The words a reader sees: no styles, scripts, embedded images or tags."""
    html = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


def result_year(frame: pd.DataFrame) -> int:
    return int(frame["year"].max())


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CITIES))
def test_run_writes_a_report_about_the_data(name, tmp_path):
    from payreform.execute import run_chapter

    frame, data, settings = CITIES[name](tmp_path)
    before = data.read_bytes()
    output = run_chapter(chapter.CHAPTER, data, settings, tmp_path / "out", progress=False)
    assert data.read_bytes() == before
    html = output.report.read_text(encoding="utf-8")
    text = visible_text(html)
    assert "from the data" in text and str(result_year(frame)) in text
    for fact in BOOK_FACTS:
        assert not re.search(rf"(?<![\w-]){re.escape(fact)}(?![\w-])", text), fact
    results = json.loads(output.results.read_text(encoding="utf-8"))
    assert results["diagnostics"]["years"] == sorted(frame["year"].unique())[-2:]
    first = re.sub(r"\*\*", "", results["diagnostics"]["summary"].split("\n")[0])[:80]
    assert " ".join(first.split()) in " ".join(text.split())
    assert len(output.figures) == 4


@pytest.mark.slow
def test_payreform_run_through_the_command_line(tmp_path):
    from click.testing import CliRunner

    from payreform.cli import main

    frame, data, settings = city_cn(tmp_path)
    arguments = ["run", "gz-capitation", "--data", str(data), "--out", str(tmp_path / "out"),
                 "--quiet"]
    for key, value in settings.items():
        arguments += ["--set", f"{key}={value}"]
    outcome = CliRunner().invoke(main, arguments)
    assert outcome.exit_code == 0, outcome.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "UEBHI" not in html and "统筹基金支出" not in re.findall(r"<th[^>]*>([^<]*)</th>",
                                                                   html)
