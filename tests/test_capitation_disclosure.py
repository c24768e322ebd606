"""Disclosure control that holds: on a small city whose cells hold 1, 2, 9 and 10 persons, no
number the chapter publishes (results.json, the tables, the glue values, the summary) rests on
fewer than min_cell_size persons; rare ages, diseases and groups are pooled so that their persons
still get a standard; no standard is negative. Checked against an independent person-level
computation (statsmodels on the frame, persons counted with pandas)."""

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
YEARS = (2011, 2012)
LOWER = [0, 6, 11, 16, 26, 36, 46, 56, 61, 66, 71, 76, 81, 86, 91, 96, 101]
LABELS = list(cap.AGE_BANDS)


def small_city(seed: int = 7) -> pd.DataFrame:
    """Scheme A: 700 persons a year, with a disease held by 1, 2, 9 and 10 single-disease
    patients, 9 then 10 persons with two diseases and 1 with three, and age bands of 9, 2 and 1
    persons above 90. Scheme B: 9 persons in the base year, 10 in the target year."""
    rng = np.random.default_rng(seed)
    rows = []
    pid = 0
    for year in YEARS:
        ages = list(rng.integers(16, 90, 688)) + [92] * 9 + [97, 98] + [103]
        ocsd = ([""] * 548 + ["D1"] + ["D2"] * 2 + ["D3"] * 9 + ["D4"] * 10 + ["D5"] * 40
                + ["D6"] * 60 + ["D5;D6"] * (9 if year == YEARS[0] else 10) + ["D4;D5;D6"])
        ocsd += [""] * (len(ages) - len(ocsd))
        rng.shuffle(ocsd)
        base = {"": 300.0, "D1": 5000.0, "D2": 4000.0, "D3": 2500.0, "D4": 1500.0,
                "D5": 900.0, "D6": 700.0}
        for age, codes in zip(ages, ocsd, strict=True):
            pid += 1
            gender = int(rng.integers(1, 3))
            inpatient = int(rng.random() < 0.15)
            mean = (base.get(codes, 3000.0) + 8 * (age - 16) + 100 * (gender == 2)
                    + 400 * inpatient) * (1.05 if year == YEARS[1] else 1.0)
            rows.append({"person_id": pid, "year": year, "scheme": "A", "gender": gender,
                         "age": int(age), "ocsd": codes, "inpatient_prev_year": inpatient,
                         "los": int(rng.integers(1, 15)) if inpatient else 0,
                         "fund_exp": round(float(mean * rng.gamma(2.0, 0.5)), 2)})
        for _ in range(9 if year == YEARS[0] else 10):
            pid += 1
            rows.append({"person_id": pid, "year": year, "scheme": "B",
                         "gender": int(rng.integers(1, 3)), "age": int(rng.integers(20, 70)),
                         "ocsd": "", "inpatient_prev_year": 0, "los": 0,
                         "fund_exp": round(float(rng.gamma(2.0, 200.0)), 2)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def city() -> pd.DataFrame:
    return small_city()


@pytest.fixture(scope="module")
def result(city):
    return chapter.run(chapter.prepare(city))


@pytest.fixture(scope="module")
def written(result, tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    result.write(folder, figures=False)
    document = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    tables = {p.stem: pd.read_csv(p) for p in (folder / "tables").glob("*.csv")}
    return document, tables


def test_the_city_has_the_small_cells_it_should(city):
    a = city[(city["scheme"] == "A")]
    singles = a[~a["ocsd"].str.contains(";") & (a["ocsd"] != "")].groupby(
        ["year", "ocsd"]).size().unstack(0)
    assert singles.loc["D1"].tolist() == [1, 1] and singles.loc["D2"].tolist() == [2, 2]
    assert singles.loc["D3"].tolist() == [9, 9] and singles.loc["D4"].tolist() == [10, 10]
    assert (city.groupby(["scheme", "year"]).size().loc["B"].tolist()) == [9, 10]


def test_rare_items_and_groups_are_pooled_and_still_priced(result, city):
    a = result.analysis
    diseases = a.disease_groups.items.query("scheme == 'A'").set_index("item")
    assert "other diseases" in diseases.index
    assert diseases.loc["other diseases", "members"] == "D1, D2, D3"
    assert diseases.loc["other diseases", "persons"] == 12
    ages = a.age_groups.items.query("scheme == 'A'")
    assert "91+" in set(ages["item"])
    assert (ages["persons"].dropna() >= MIN).all()
    structure = a.standards.structures["A"]
    # two diseases (9 in the base year) and three or more (1) become one group
    assert structure.states["two"] == structure.states["three"] != 0
    assert "two or more diseases" in structure.ocsd_labels.values()
    # every person, the one with D1 included, is priced
    grid = a.standards.standards_table("A")
    assert grid["standard"].notna().all() and (grid["standard"] >= 0).all()
    assert structure.disease_groups["D1"] == structure.disease_groups["D2"] >= 1
    # scheme B is too small in the base year: no standards, said so
    assert "B" not in a.standards.schemes
    assert any("B" in w and "no standards" in w for w in result.warnings())
    assert "pooling steps keep every number on at least 10 persons" in result.summary()


def _person_cells(city: pd.DataFrame, groups: dict) -> pd.DataFrame:
    """Each scheme A person's model cell, from the published groupings, with pandas only."""
    a = city[city["scheme"] == "A"].copy()
    band = pd.cut(a["age"], bins=[*LOWER, 200], right=False, labels=LABELS).astype(str)
    a["age_group"] = band.map(groups["age_group_of_band"]).astype(int)
    count = a["ocsd"].map(lambda t: 0 if t == "" else len(t.split(";")))
    a["ocsd_group"] = np.select(
        [count == 0, count == 1, count == 2],
        [0, a["ocsd"].map(groups["ocsd_group_of_disease"]).fillna(0), groups["ocsd_group_of_two"]],
        groups["ocsd_group_of_three"]).astype(int)
    return a


def test_every_coefficient_rests_on_enough_persons_and_equals_statsmodels(written, city):
    document, _ = written
    groups = document["diagnostics"]["model_groups"]["A"]
    a = _person_cells(city, groups)
    estimates = pd.DataFrame(document["estimates"])
    model = estimates[(estimates["model"] == "payment model") & (estimates["scheme"] == "A")]
    for year in YEARS:
        part = a[a["year"] == year]
        design = {"intercept": np.ones(len(part))}
        for term in model.loc[model["year"] == year, "term"]:
            bits = term.split("_")
            if term.startswith("gender_age_"):
                design[term] = ((part["gender"] == int(bits[2]))
                                & (part["age_group"] == int(bits[3]))).to_numpy(float)
            elif term.startswith("age_"):
                design[term] = (part["age_group"] == int(bits[1])).to_numpy(float)
            elif term.startswith("ocsd_"):
                design[term] = (part["ocsd_group"] == int(bits[1])).to_numpy(float)
            elif term == "inpatient_1":
                design[term] = (part["inpatient_prev_year"] == 1).to_numpy(float)
        design = pd.DataFrame(design)
        persons = design.sum()
        assert (persons >= MIN).all(), persons  # no coefficient rests on fewer persons
        reference = sm.OLS(part["fund_exp"].to_numpy(), design).fit(cov_type="HC1")
        ours = model[model["year"] == year].set_index("term").loc[design.columns]
        np.testing.assert_allclose(ours["estimate"], reference.params, atol=1e-7)
        np.testing.assert_allclose(ours["std_error"], reference.bse, atol=1e-6)
        np.testing.assert_allclose(ours["persons"].iloc[1:], persons.iloc[1:])


def _numbers(value) -> list[float]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, str):
        return [float(x.replace(",", "")) for x in re.findall(r"-?\d[\d,]*\.\d+", value)]
    return []


def test_no_published_number_is_a_small_cells_value(written, result, city):
    """Means and single values of every group of fewer than 10 persons appear nowhere."""
    document, tables = written
    published = _numbers(document) + _numbers(result.glue_values()) + _numbers(result.summary())
    for table in tables.values():
        for column in table.select_dtypes("number").columns:
            published += [float(v) for v in table[column].dropna()]
    published = np.array(published)
    a = city[city["scheme"] == "A"]
    secrets = []
    for code in ("D1", "D2", "D3"):
        for _, part in a[a["ocsd"] == code].groupby("year"):
            secrets += list(part["fund_exp"]) + [part["fund_exp"].mean()]
    for _, part in a[a["age"] >= 91].groupby(["year", pd.cut(a["age"], [90, 95, 100, 200])],
                                            observed=True):
        secrets += list(part["fund_exp"]) + [part["fund_exp"].mean()]
    for _, part in a[a["ocsd"].str.count(";") >= 1].groupby(["year", a["ocsd"].str.count(";")]):
        if len(part) < MIN:
            secrets += list(part["fund_exp"]) + [part["fund_exp"].mean()]
    b = city[city["scheme"] == "B"]
    secrets += list(b["fund_exp"]) + [b.loc[b["year"] == YEARS[0], "fund_exp"].mean(),
                                      b.loc[b["year"] == YEARS[0], "fund_exp"].sum()]
    for secret in secrets:
        close = np.abs(published - round(float(secret), 2)) < 0.006
        assert not close.any(), (secret, published[close][:5])


def test_every_published_row_is_suppressed_below_the_threshold(written):
    document, tables = written
    for row in document["estimates"]:
        if row["estimate"] is not None:
            assert row["persons"] >= MIN, row
            assert row["n_obs"] is None or row["n_obs"] >= MIN, row
        if row["model"] == "standard":
            assert row["estimate"] is not None and row["estimate"] >= 0, row
    values = ("per_capita", "fund_exp", "mean", "ratio", "actual", "predicted", "observed_mean",
              "z", "center", "cv", "cv_weighted")
    records = [r for v in document["diagnostics"].values() if isinstance(v, list)
               for r in v if isinstance(r, dict) and "persons" in r]
    records += [r for t in tables.values() if "persons" in t.columns
                for r in t.to_dict("records")]
    assert len(records) > 100
    for record in records:
        persons = record["persons"]
        if persons is None or (isinstance(persons, float) and np.isnan(persons)):
            for key in values:
                value = record.get(key)
                assert value is None or (isinstance(value, float) and np.isnan(value)), record
        else:
            assert persons >= MIN, record
    persons = pd.DataFrame(document["diagnostics"]["persons"]).set_index(["scheme", "year"])
    assert np.isnan(persons.loc[("B", YEARS[0]), "persons"])
    assert persons.loc[("B", YEARS[1]), "persons"] == 10


def test_the_issue_reproduction_has_no_disclosive_standard(tmp_path):
    """The city of the issue (seed 3, scale 0.002): no standard with standard error 0, none
    negative, no coefficient on fewer than 10 persons."""
    from payreform.synth import gz

    frame = gz.generate(seed=3, scale=0.002)
    result = chapter.run(chapter.prepare(frame, {"groups": "paper"}))
    estimates = result.estimates()
    given = estimates[estimates["estimate"].notna()]
    assert (given["persons"] >= MIN).all()
    standards = given[given["model"] == "standard"]
    assert (standards["estimate"] >= 0).all() and (standards["std_error"] > 0).all()
    assert any("URRBHI" in note for note in result.pooled())


def test_negative_standards_are_floored_and_said():
    rng = np.random.default_rng(5)
    rows = []
    cells = [(1, 0, 100.0, 500), (2, 0, 10.0, 500), (1, 1, 20.0, 50), (2, 1, 15.0, 12)]
    pid = 0
    for year in YEARS:
        for gender, inpatient, mean, n in cells:
            for _ in range(n):
                pid += 1
                rows.append({"person_id": pid, "year": year, "scheme": "A", "gender": gender,
                             "age": int(rng.integers(20, 60)), "ocsd": "",
                             "inpatient_prev_year": inpatient, "los": 3 * inpatient,
                             "fund_exp": round(mean * rng.uniform(0.9, 1.1), 2)})
    result = chapter.run(chapter.prepare(pd.DataFrame(rows), {"k_age": ["1"]}))
    grid = result.analysis.standards.standards_table("A", YEARS[1])
    floored = grid[grid["floored"]]
    assert len(floored) and (floored["standard"] == 0).all()
    assert floored["std_error"].isna().all()
    assert set(zip(floored["gender"], floored["inpatient"], strict=True)) == {(2, 1)}
    params = result.analysis.standards.params("A", YEARS[1])
    assert params["intercept"] + params["gender_age_2_1"] + params["inpatient_1"] < 0
    one = result.analysis.simulation.at(1.0).set_index("scheme").loc["A"]
    assert one["payment"] > one["actual"]  # the floor pays a little more than the OLS total
    assert "paid 0 (floored)" in result.summary()
    assert any("paid 0" in w for w in result.warnings())
