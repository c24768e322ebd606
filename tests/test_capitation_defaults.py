"""Defaults that come from the data: the two latest years, the schemes and disease codes found
(or a mapping file), where the groups come from, and which rule chose the number of groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from payreform import capitation as cap
from payreform.chapters import gz_capitation as chapter
from payreform.errors import ContractError, ParameterError


def city(years=(2001, 2002, 2003), codes=("K1", "K2", "K3", "K4", "K5"), n=600, seed=3,
         costs=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    costs = costs or {c: 300.0 * (i + 1) for i, c in enumerate(codes)}
    rows = []
    for year in years:
        for i in range(n):
            code = "" if rng.random() < 0.6 else str(rng.choice(codes))
            age = int(rng.integers(0, 95))
            rows.append({"person_id": i, "year": year, "scheme": "S", "gender": 1 + i % 2,
                         "age": age, "ocsd": code, "inpatient_prev_year": int(rng.random() < 0.1),
                         "los": 0, "fund_exp": round(float(100 + 4 * age + costs.get(code, 0.0)
                                                           + rng.normal(0, 40)), 2)})
    frame = pd.DataFrame(rows)
    frame.loc[frame["inpatient_prev_year"] == 1, "los"] = 5
    return frame.assign(fund_exp=frame["fund_exp"].clip(lower=0))


def test_the_two_latest_years_are_the_default():
    cells = cap.cell_statistics(city())
    assert cap.two_latest_years(cells) == (2002, 2003)
    assert cap.two_latest_years(cells, base_year=2001) == (2001, 2003)
    assert cap.two_latest_years(cells, target_year=2002) == (2001, 2002)
    with pytest.raises(ContractError, match="the data hold only the year 2001"):
        cap.two_latest_years(cells, target_year=2001)
    single = cap.cell_statistics(city(years=(2005,)))
    with pytest.raises(ContractError, match="multi-year weighting needs an earlier year"):
        chapter.prepare(city(years=(2005,)))
    del single


def test_schemes_and_diseases_come_from_the_data():
    frame = city().assign(scheme=lambda f: np.where(f["person_id"] % 3 == 0, "居民", "职工"))
    cells = cap.cell_statistics(frame)
    assert cells.schemes == ("职工", "居民") or set(cells.schemes) == {"职工", "居民"}
    assert cells.diseases.codes == ("K1", "K2", "K3", "K4", "K5")
    assert cells.diseases.source == "data"
    prepared = chapter.prepare(frame)
    assert prepared.settings["diseases"] == "5 codes in the data"
    assert prepared.settings["groups"] == "clustered"


def test_disease_file_names_codes_and_groups(tmp_path):
    path = tmp_path / "病种.csv"
    pd.DataFrame({"编码": ["K1", "K2", "K3", "K4", "K5"], "名称": ["a", "b", "c", "d", "e"],
                  "分组": [2, 2, 1, 1, 1]}).to_csv(path, index=False, encoding="gbk")
    codes = cap.load_disease_file(path)
    assert codes.codes == ("K1", "K2", "K3", "K4", "K5") and codes.name("K3") == "c"
    assert codes.groups == {"K1": 2, "K2": 2, "K3": 1, "K4": 1, "K5": 1}
    result = chapter.run(chapter.prepare(city(), {"diseases": str(path)}))
    assert result.settings["groups"] == "file"
    assert result.settings.source("groups") == "from the data"
    structure = result.analysis.standards.structures["S"]
    assert structure.single_groups == codes.groups
    # a code the file does not list is refused with its row
    with pytest.raises(ContractError, match="disease code 'K9' in row .*does not list"):
        chapter.prepare(city().assign(ocsd=lambda f: f["ocsd"].replace("K5", "K9")),
                        {"diseases": str(path)})


@pytest.mark.parametrize("table, message", [
    ({"name": ["a"], "group": [1]}, r"no 'code' column"),
    ({"code": ["K1", "k1"], "name": ["a", "b"]}, r"lists the code 'k1' twice"),
    ({"code": ["K1", "K2"], "group": [1, 3]}, r"numbers its groups \[1, 3\]"),
    ({"code": ["K1", "K2"], "group": [1, "x"]}, r"has the group 'x' in row 3"),
])
def test_bad_disease_files_are_refused_in_one_line(tmp_path, table, message):
    path = tmp_path / "diseases.csv"
    pd.DataFrame(table).to_csv(path, index=False)
    with pytest.raises(ParameterError, match=message):
        cap.load_disease_file(path)


def test_the_rule_that_chose_k_is_reported():
    # well separated disease costs: the Calinski-Harabasz index peaks
    costs = {"K1": 200.0, "K2": 220.0, "K3": 1500.0, "K4": 1520.0, "K5": 4000.0, "K6": 4010.0}
    peaked = chapter.run(chapter.prepare(city(codes=tuple(costs), costs=costs, n=1500)))
    rule = peaked.analysis.disease_groups.rule["S"]
    assert rule == cap.RULE_FIRST_PEAK, rule
    assert peaked.analysis.disease_groups.k("S") == 3
    assert not any("disease groups" in w and "elbow" in w for w in peaked.warnings())
    # costs doubling from disease to disease: the index rises to the end, the elbow decides
    doubling = {f"K{i}": 50.0 * 2**i for i in range(1, 9)}
    spread = chapter.run(chapter.prepare(city(codes=tuple(doubling), costs=doubling, n=4000)))
    assert spread.analysis.disease_groups.rule["S"] == cap.RULE_ELBOW
    curve = spread.analysis.disease_groups.curve
    ch = curve.loc[curve["k"] >= 2, "calinski_harabasz"].to_numpy()
    assert (np.diff(ch) > 0).all()  # no first peak
    assert spread.analysis.disease_groups.k("S") == cap.elbow(curve["k"], curve["within_ss"])
    assert any("elbow rule" in w for w in spread.warnings())
    assert "elbow of the within-group sum of squares" in spread.summary()
