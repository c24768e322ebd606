"""GZ capitation method: cell-statistics OLS against person-level statsmodels, exact 1-D
clustering against brute force, Calinski-Harabasz and CV by hand, blending arithmetic,
predictive ratios, the data contract (one test per rule, input file untouched) and identical
results from a DataFrame, a CSV file and a Parquet file."""

from __future__ import annotations

import hashlib
import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from payreform import capitation as cap
from payreform import plots
from payreform.errors import ContractError, ParameterError
from payreform.synth import gz

COEF_TOL = 1e-8
SE_TOL = 1e-6
K_PAPER = {"UEBHI": 4, "URRBHI": 5}


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def persons() -> pd.DataFrame:
    """About 36,000 synthetic person-years (both schemes, 2023 and 2024)."""
    return gz.generate(seed=11, scale=0.002)


@pytest.fixture(scope="module")
def cells(persons):
    return cap.cell_statistics(persons, deciles=True)


@pytest.fixture(scope="module")
def published_groups():
    return gz.published_groupings()


@pytest.fixture(scope="module")
def standards(cells, published_groups):
    ages, diseases = published_groups
    return cap.payment_standards(cells, ages, diseases)


# ----------------------------------------------------------------------------- person-level reference


def person_design(frame: pd.DataFrame, ages: dict, diseases: dict, scheme: str) -> pd.DataFrame:
    """The payment model's design written out person by person (independent of the package)."""
    lower = [0, 6, 11, 16, 26, 36, 46, 56, 61, 66, 71, 76, 81, 86, 91, 96, 101]
    labels = ["0-5", "6-10", "11-15", "16-25", "26-35", "36-45", "46-55", "56-60", "61-65",
              "66-70", "71-75", "76-80", "81-85", "86-90", "91-95", "96-100", "101+"]
    band = pd.cut(frame["age"], bins=[*lower, 200], right=False, labels=labels).astype(str)
    age_group = band.map(ages[scheme]).astype(int)
    codes = frame["ocsd"].fillna("").str.strip()
    count = codes.map(lambda text: 0 if text == "" else len(text.split(";")))
    k = max(diseases[scheme].values())
    ocsd_group = np.where(count == 0, 0, np.where(count == 1, codes.map(
        lambda text: diseases[scheme].get(text, 0)), np.where(count == 2, k + 1, k + 2)))
    design = {"intercept": np.ones(len(frame))}
    for g in (1, 2):
        for a in (1, 2, 3):
            if (g, a) != (1, 1):
                design[f"gender_age_{g}_{a}"] = ((frame["gender"] == g) & (age_group == a)).astype(
                    float).to_numpy()
    for o in range(1, k + 3):
        design[f"ocsd_{o}"] = (ocsd_group == o).astype(float)
    design["inpatient_1"] = (frame["inpatient_prev_year"] == 1).astype(float).to_numpy()
    return pd.DataFrame(design, index=frame.index)


def screening_design(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "intercept": 1.0, "gender": (frame["gender"] == 2).astype(float),
        "age": frame["age"].astype(float), "ocsd": (frame["ocsd"].fillna("") != "").astype(float),
        "inpatient": frame["inpatient_prev_year"].astype(float), "los": frame["los"].astype(float)},
        index=frame.index)


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- payment model OLS


def test_cell_statistics_ols_equals_person_level_statsmodels(persons, standards, published_groups):
    ages, diseases = published_groups
    for scheme in cap.SCHEMES:
        for year in cap.YEARS:
            part = persons[(persons["scheme"] == scheme) & (persons["year"] == year)]
            design = person_design(part, ages, diseases, scheme)
            hc1 = sm.OLS(part["fund_exp"].to_numpy(), design).fit(cov_type="HC1")
            conventional = sm.OLS(part["fund_exp"].to_numpy(), design).fit()
            ours = standards.coefficients.query("scheme == @scheme and year == @year") \
                .set_index("term")
            assert list(ours.index) == list(design.columns)
            np.testing.assert_allclose(ours["estimate"], hc1.params, rtol=0, atol=COEF_TOL)
            np.testing.assert_allclose(ours["std_error"], hc1.bse, rtol=0, atol=SE_TOL)
            np.testing.assert_allclose(ours["std_error_conventional"], conventional.bse, rtol=0,
                                       atol=SE_TOL)
            fit = standards.fit.query("scheme == @scheme and year == @year").iloc[0]
            assert fit["r_squared"] == pytest.approx(conventional.rsquared, abs=1e-10)
            assert fit["n_obs"] == len(part)


def test_standards_are_intercept_plus_coefficients(standards):
    table = standards.standards_table("UEBHI", 2024)
    params = standards.params("UEBHI", 2024)
    row = table.query("gender == 2 and age_group == 3 and ocsd_group == 5 and inpatient == 1")
    expected = (params["intercept"] + params["gender_age_2_3"] + params["ocsd_5"]
                + params["inpatient_1"])
    assert row["standard"].item() == pytest.approx(expected, abs=1e-9)
    reference = table.query("gender == 1 and age_group == 1 and ocsd_group == 0 and inpatient == 0")
    assert reference["standard"].item() == pytest.approx(params["intercept"], abs=1e-9)
    # full grid: 2 genders x 3 age groups x (k + 3) OCSD groups x 2 inpatient states
    assert len(table) == 2 * 3 * (K_PAPER["UEBHI"] + 3) * 2
    # HC1 standard error of a standard is the square root of x' V x
    fit = standards.fits[("UEBHI", 2024)]
    x = np.zeros(len(fit.terms))
    for term in ("intercept", "gender_age_2_3", "ocsd_5", "inpatient_1"):
        x[fit.terms.index(term)] = 1.0
    assert row["std_error"].item() == pytest.approx(math.sqrt(x @ fit.cov_hc1 @ x), rel=1e-12)


def test_payment_model_with_los_equals_statsmodels(persons, cells, published_groups):
    ages, diseases = published_groups
    with_los = cap.payment_standards(cells, ages, diseases, include_los=True)
    part = persons[(persons["scheme"] == "URRBHI") & (persons["year"] == 2024)]
    design = person_design(part, ages, diseases, "URRBHI")
    design["los"] = part["los"].astype(float)
    reference = sm.OLS(part["fund_exp"].to_numpy(), design).fit(cov_type="HC1")
    ours = with_los.coefficients.query("scheme == 'URRBHI' and year == 2024").set_index("term")
    np.testing.assert_allclose(ours["estimate"], reference.params, rtol=0, atol=COEF_TOL)
    np.testing.assert_allclose(ours["std_error"], reference.bse, rtol=0, atol=SE_TOL)


# ----------------------------------------------------------------------------- screening


def test_screening_from_sufficient_statistics_equals_statsmodels(persons, cells):
    screening = cap.screen_factors(cells)
    for scheme in cap.SCHEMES:
        for year in cap.YEARS:
            part = persons[(persons["scheme"] == scheme) & (persons["year"] == year)]
            design = screening_design(part)
            y = part["fund_exp"].to_numpy()
            hc1 = sm.OLS(y, design).fit(cov_type="HC1")
            conventional = sm.OLS(y, design).fit()
            ours = screening.coefficients.query("scheme == @scheme and year == @year") \
                .set_index("term")
            np.testing.assert_allclose(ours["estimate"], hc1.params, rtol=1e-11, atol=COEF_TOL)
            np.testing.assert_allclose(ours["std_error"], hc1.bse, rtol=0, atol=SE_TOL)
            np.testing.assert_allclose(ours["std_error_conventional"], conventional.bse, rtol=0,
                                       atol=SE_TOL)
            np.testing.assert_allclose(ours["p_value_conventional"], conventional.pvalues,
                                       atol=1e-8)
            fit = screening.fit.query("scheme == @scheme and year == @year").iloc[0]
            assert fit["r_squared"] == pytest.approx(conventional.rsquared, abs=1e-10)
            # R² contributions: drop-one by refitting, Shapley by averaging over all 120 orders
            contributions = screening.contributions.query("scheme == @scheme and year == @year") \
                .set_index("factor")
            factors = list(cap.SCREENING_FACTORS)

            def r2(subset, design=design, y=y):
                if not subset:
                    return 0.0
                return sm.OLS(y, design[["intercept", *subset]]).fit().rsquared

            cache = {}
            for order in itertools.permutations(factors):
                for i in range(len(order) + 1):
                    key = frozenset(order[:i])
                    if key not in cache:
                        cache[key] = r2(sorted(key, key=factors.index))
            for factor in factors:
                others = [f for f in factors if f != factor]
                assert contributions.loc[factor, "r2_drop_one"] == pytest.approx(
                    fit["r_squared"] - cache[frozenset(others)], abs=1e-10)
                gains = [cache[frozenset(order[:order.index(factor) + 1])]
                         - cache[frozenset(order[:order.index(factor)])]
                         for order in itertools.permutations(factors)]
                assert contributions.loc[factor, "r2_shapley"] == pytest.approx(np.mean(gains),
                                                                                 abs=1e-10)
            assert contributions["r2_shapley"].sum() == pytest.approx(fit["r_squared"], abs=1e-12)


def test_los_rule_drops_length_of_stay_when_not_significant_somewhere(cells):
    screening = cap.screen_factors(cells)
    p = screening.fit.set_index(["scheme", "year"])["los_p_value"]
    assert screening.drop_los == bool((p > 0.05).any())
    assert screening.drop_los  # UEBHI has no planted LOS effect
    assert "los" not in screening.kept_factors
    assert "length of stay dropped" in screening.los_reason
    keep_all = cap.screen_factors(cells, alpha=0.999999)
    assert not keep_all.drop_los and "los" in keep_all.kept_factors
    with pytest.raises(ParameterError, match="cov_type"):
        cap.screen_factors(cells, cov_type="HC3")


# ----------------------------------------------------------------------------- 1-D clustering


def brute_force_contiguous(x, w, k):
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    best = (np.inf, None)
    for cuts in itertools.combinations(range(1, len(x)), k - 1):
        bounds = [0, *cuts, len(x)]
        sse = 0.0
        for a, b in itertools.pairwise(bounds):
            center = np.sum(ws[a:b] * xs[a:b]) / np.sum(ws[a:b])
            sse += np.sum(ws[a:b] * (xs[a:b] - center) ** 2)
        if sse < best[0]:
            best = (sse, bounds)
    return best[0]


def set_partitions(n, k):
    """All partitions of range(n) into exactly k non-empty blocks (restricted growth strings)."""
    def grow(labels, used):
        if len(labels) == n:
            if used == k:
                yield list(labels)
            return
        for label in range(min(used + 1, k)):
            yield from grow(labels + [label], max(used, label + 1))
    yield from grow([0], 1)


def brute_force_all(x, w, k):
    best = np.inf
    for labels in set_partitions(len(x), k):
        labels = np.array(labels)
        sse = 0.0
        for g in range(k):
            member = labels == g
            center = np.sum(w[member] * x[member]) / np.sum(w[member])
            sse += np.sum(w[member] * (x[member] - center) ** 2)
        best = min(best, sse)
    return best


@pytest.mark.parametrize("weighted", [False, True])
def test_dynamic_programming_equals_brute_force(weighted):
    rng = np.random.default_rng(7)
    for n in range(3, 10):
        for _ in range(4):
            x = rng.normal(size=n) * rng.choice([1.0, 100.0])
            w = rng.integers(1, 50, size=n).astype(float) if weighted else np.ones(n)
            for k in range(1, min(n, 5) + 1):
                result = cap.kmeans_1d(x, k, w if weighted else None)
                assert result.within_ss == pytest.approx(brute_force_contiguous(x, w, k),
                                                         rel=1e-12, abs=1e-12)
                if n <= 7:  # every set partition, not only contiguous ones
                    assert result.within_ss == pytest.approx(brute_force_all(x, w, k),
                                                             rel=1e-12, abs=1e-12)
                assert sorted(set(result.labels)) == list(range(k))
                assert np.all(np.diff(result.centers) > 0)


def test_dynamic_programming_handles_ties_and_frequency_weights():
    x = np.array([1.0, 1.0, 2.0, 5.0, 5.0, 9.0])
    for k in range(1, 6):
        assert cap.kmeans_1d(x, k).within_ss == pytest.approx(brute_force_all(x, np.ones(6), k),
                                                              abs=1e-12)
    # integer weights are the same as repeating the values
    values, weights = np.array([3.0, 7.5, 8.0, 20.0, 21.0]), np.array([2, 1, 3, 1, 2])
    expanded = np.repeat(values, weights)
    for k in (2, 3):
        weighted = cap.kmeans_1d(values, k, weights)
        plain = cap.kmeans_1d(expanded, k)
        assert weighted.within_ss == pytest.approx(plain.within_ss, rel=1e-12)
        assert weighted.calinski_harabasz == pytest.approx(plain.calinski_harabasz, rel=1e-12)
    with pytest.raises(ParameterError, match="'k'"):
        cap.kmeans_1d(values, 6)
    with pytest.raises(ParameterError, match="weights"):
        cap.kmeans_1d(values, 2, [1, 1, 1, 1, -1])


def test_calinski_harabasz_by_hand():
    values = np.array([1.0, 2.0, 3.0, 10.0, 11.0, 20.0])
    labels = np.array([0, 0, 0, 1, 1, 2])
    grand = values.mean()
    centers = {0: 2.0, 1: 10.5, 2: 20.0}
    between = 3 * (2.0 - grand) ** 2 + 2 * (10.5 - grand) ** 2 + 1 * (20.0 - grand) ** 2
    within = sum((v - centers[g]) ** 2 for v, g in zip(values, labels, strict=True))
    expected = (between / 2) / (within / 3)
    assert cap.calinski_harabasz(values, labels) == pytest.approx(expected, rel=1e-14)
    assert math.isnan(cap.calinski_harabasz(values, np.zeros(6)))
    assert cap.calinski_harabasz([1.0, 1.0, 4.0], [0, 0, 1]) == math.inf


def test_first_peak_rule():
    assert cap.first_peak([2, 3, 4, 5], [5.0, 9.0, 7.0, 12.0]) == (3, True)
    assert cap.first_peak([2, 3, 4], [9.0, 5.0, 7.0]) == (2, True)
    # a plateau that then falls peaks at its last k
    assert cap.first_peak([2, 3, 4, 5], [5.0, 5.0, 5.0, 4.0]) == (4, True)
    assert cap.first_peak([2, 3, 4], [1.0, 2.0, 3.0]) == (4, False)


def test_grouping_of_age_bands_and_cv(cells):
    ages = cap.group_age_bands(cells, k=3)
    for scheme in cap.SCHEMES:
        items = ages.items[ages.items["scheme"] == scheme]
        assert set(items["group"]) == {1, 2, 3}
        # groups are numbered by increasing expenditure and are contiguous in it
        means = items.groupby("group")["per_capita"].agg(["min", "max"])
        assert (means["max"].to_numpy()[:-1] < means["min"].to_numpy()[1:]).all()
        for g, group in ages.groups[ages.groups["scheme"] == scheme].set_index("group").iterrows():
            values = items.loc[items["group"] == g, "per_capita"].to_numpy()
            if len(values) > 1:
                assert group["cv"] == pytest.approx(np.std(values, ddof=1) / values.mean())
        # per-capita values are the atoms' totals over persons
        atoms = cells.subset(scheme, 2024)
        first = items.iloc[0]
        band = atoms[atoms["age_band"] == first["item"]]
        assert first["per_capita"] == pytest.approx(band["sum_y"].sum() / band["persons"].sum())
    diseases = cap.group_diseases(cells, k=K_PAPER)
    for scheme, k in K_PAPER.items():
        items = diseases.items[diseases.items["scheme"] == scheme]
        means = items.groupby("group")["per_capita"].mean()
        assert list(means.index) == list(range(1, k + 1))
        assert means.is_monotonic_decreasing  # disease group 1 is the dearest, as the paper
    curve = cap.group_age_bands(cells, k_max=6).curve
    assert curve.groupby("scheme")["k"].max().tolist() == [6, 6]
    with pytest.raises(ParameterError, match="weighting"):
        cap.group_age_bands(cells, weighting="people")


def test_published_groupings_against_exact_clustering_of_published_means():
    """What the exact optimum says about the paper's groupings (reported in the chapter)."""
    published = gz.published("groupings")
    plain = cap.compare_groupings(published).table().set_index(["scheme", "dimension"])
    weighted = cap.compare_groupings(published, weighting="persons").table() \
        .set_index(["scheme", "dimension"])
    # URRBHI: the paper's age and disease groups are the exact unweighted optimum
    assert plain.loc[("URRBHI", "age_band"), "adjusted_rand_index"] == 1.0
    assert plain.loc[("URRBHI", "disease"), "adjusted_rand_index"] == 1.0
    # UEBHI ages: the exact optimum only when bands are weighted by persons
    assert weighted.loc[("UEBHI", "age_band"), "adjusted_rand_index"] == 1.0
    assert plain.loc[("UEBHI", "age_band"), "items_moved"] == 4
    # UEBHI diseases: neither weighting reproduces the paper's four groups
    assert plain.loc[("UEBHI", "disease"), "items_moved"] > 0
    assert weighted.loc[("UEBHI", "disease"), "items_moved"] > 0
    # the optimum's within sum of squares never exceeds the published grouping's
    assert (plain["within_ss_optimal"] <= plain["within_ss_published"] * (1 + 1e-12)).all()
    # with exact k-means the Calinski-Harabasz index has no peak up to k = 10 on these means
    assert not plain["first_peak_found"].any()


def test_within_group_cv_reproduces_the_papers_tables():
    groups = cap.compare_groupings(gz.published("groupings")).group_table()
    groups = groups[groups["grouping"] == "published"].merge(
        gz.published("group_cv"), on=["scheme", "dimension", "group"], suffixes=("", "_paper"))
    groups["gap"] = (groups["cv"] - groups["cv_paper"]).abs()
    # the printed CVs are the sample CVs of the printed means, rounded, in 10 of 15 groups;
    # these five differ by more than rounding (e.g. UEBHI group 4: AS 1,902 and psoriasis
    # 1,882 have CV 0.007, printed 0.17)
    exceptions = {("UEBHI", "disease", 2), ("UEBHI", "disease", 4), ("URRBHI", "disease", 2),
                  ("URRBHI", "disease", 4), ("URRBHI", "age_band", 3)}
    key = list(zip(groups["scheme"], groups["dimension"], groups["group"], strict=True))
    inside = groups[[k not in exceptions for k in key]]
    assert (inside["gap"] <= 0.0051).all(), inside
    outside = groups[[k in exceptions for k in key]]
    assert (outside["gap"] > 0.0051).all()


def test_adjusted_rand_index_by_hand():
    assert cap.adjusted_rand_index([1, 1, 2, 2], [3, 3, 4, 4]) == 1.0
    # contingency [[2, 1], [0, 2]]: index 1, rows 1 + 1 = 2 ... expected = 2 * 4 / 10
    a, b = [1, 1, 1, 2, 2], [1, 1, 2, 2, 2]
    index, rows, columns, total = 1 + 1, 3 + 1, 1 + 3, 10
    expected = rows * columns / total
    assert cap.adjusted_rand_index(a, b) == pytest.approx(
        (index - expected) / ((rows + columns) / 2 - expected))


def test_items_missing_from_the_clustered_year_go_to_the_nearest_group(persons):
    # drop URRBHI's oldest band in 2024 only: the 2024 clustering does not see it
    frame = persons[~((persons["scheme"] == "URRBHI") & (persons["year"] == 2024)
                      & (persons["age"] >= 91))]
    cells = cap.cell_statistics(frame)
    ages = cap.group_age_bands(cells, k=3)
    diseases = cap.group_diseases(cells, k=K_PAPER)
    standards = cap.payment_standards(cells, ages, diseases)
    notes = [n for n in standards.notes if "age band 91-95" in n]
    assert len(notes) == 1
    old = cells.subset("URRBHI", 2023)
    old = old[old["age_band"] == "91-95"]
    per_capita = old["sum_y"].sum() / old["persons"].sum()
    centers = ages.groups.query("scheme == 'URRBHI'").set_index("group")["center"]
    assert standards.age_groups["URRBHI"]["91-95"] == int((centers - per_capita).abs().idxmin())
    # with a plain mapping, a missing item is an error instead
    mapping = {s: {b: g for b, g in m.items() if (s, b) != ("URRBHI", "91-95")}
               for s, m in gz.published_groupings()[0].items()}
    with pytest.raises(ParameterError, match="age band '91-95' occurs in URRBHI"):
        cap.payment_standards(cells, mapping, gz.published_groupings()[1])
    with pytest.raises(ParameterError, match="without gaps"):
        cap.payment_standards(cells, {"UEBHI": {"16-25": 1, "26-35": 3}, "URRBHI": {}},
                              gz.published_groupings()[1])


# ----------------------------------------------------------------------------- weighting


def test_blending_and_savings_by_hand(persons, standards):
    simulation = cap.simulate_blending(standards, omegas=[0.0, 0.25, 0.5, 1.0])
    table = simulation.table().set_index(["scheme", "omega"])
    totals = {}
    for scheme in cap.SCHEMES:
        part = persons[(persons["scheme"] == scheme) & (persons["year"] == 2024)]
        ages, diseases = gz.published_groupings()
        design = person_design(part, ages, diseases, scheme)
        payments = {}
        for year in (2023, 2024):
            params = standards.params(scheme, year)
            payments[year] = float((design.to_numpy() @ params[design.columns].to_numpy()).sum())
        actual = float(part["fund_exp"].sum())
        for omega in (0.0, 0.25, 0.5, 1.0):
            payment = omega * payments[2024] + (1 - omega) * payments[2023]
            row = table.loc[(scheme, omega)]
            assert row["payment"] == pytest.approx(payment, rel=1e-12)
            assert row["savings"] == pytest.approx(actual - payment, rel=1e-9, abs=1e-3)
            assert row["savings_pct"] == pytest.approx(100 * (actual - payment) / actual,
                                                       rel=1e-9, abs=1e-9)
            totals.setdefault(omega, [0.0, 0.0])
            totals[omega][0] += actual
            totals[omega][1] += payment
        # OLS with an intercept prices the fitted year exactly: break-even at omega = 1
        assert abs(table.loc[(scheme, 1.0), "savings"]) < 1e-6 * actual
    for omega, (actual, payment) in totals.items():
        assert table.loc[("total", omega), "savings"] == pytest.approx(actual - payment, abs=1e-3)
    # savings are linear in omega
    savings = table.loc["UEBHI", "savings"]
    assert savings[0.5] == pytest.approx((savings[0.0] + savings[1.0]) / 2, rel=1e-10)
    with pytest.raises(ParameterError, match="omegas"):
        cap.simulate_blending(standards, omegas=[1.5])


# ----------------------------------------------------------------------------- beyond the paper


def test_predictive_ratios_in_and_out_of_sample(persons, cells, standards):
    ratios = cap.predictive_ratios(standards, omegas=(1.0, 0.0)).ratios
    inside = ratios[ratios["omega"] == 1.0]
    # OLS normal equations: exactly 1 for every gender x age group and OCSD group in sample
    for dimension in ("scheme", "gender_age_group", "ocsd_group"):
        np.testing.assert_allclose(inside.loc[inside["dimension"] == dimension, "ratio"], 1.0,
                                   atol=1e-9)
    # the expenditure deciles, recomputed person by person with the same cut points
    part = persons[(persons["scheme"] == "UEBHI") & (persons["year"] == 2024)]
    ages, diseases = gz.published_groupings()
    design = person_design(part, ages, diseases, "UEBHI")
    for omega, year in ((1.0, 2024), (0.0, 2023)):
        predicted = design.to_numpy() @ standards.params("UEBHI", year)[design.columns].to_numpy()
        cuts = np.round(np.array(cells.cutpoints["UEBHI"]) * 100)
        decile = np.searchsorted(cuts, np.round(part["fund_exp"].to_numpy() * 100), side="left") + 1
        by_decile = pd.DataFrame({"decile": decile, "y": part["fund_exp"].to_numpy(),
                                  "p": predicted}).groupby("decile").sum()
        ours = ratios[(ratios["scheme"] == "UEBHI") & (ratios["omega"] == omega)
                      & (ratios["dimension"] == "expenditure_decile")].set_index("level")
        np.testing.assert_allclose(ours["ratio"].to_numpy(),
                                   (by_decile["y"] / by_decile["p"]).to_numpy(), rtol=1e-10)
    # the cut points are quantiles of the data: at least q at or below, at most q below
    y = part["fund_exp"].to_numpy()
    for q, cut in zip(np.arange(1, 10) / 10, cells.cutpoints["UEBHI"], strict=True):
        assert (y <= cut + 1e-9).mean() >= q - 1e-12
        assert (y < cut - 1e-9).mean() <= q + 1e-12
    deciles = inside[inside["dimension"] == "expenditure_decile"]
    assert deciles.groupby("scheme")["ratio"].apply(lambda r: r.is_monotonic_increasing).all()


def test_fit_statistics_out_of_sample(persons, standards):
    fit = cap.fit_statistics(standards).table().set_index(["scheme", "standards", "evaluated_on"])
    part = persons[(persons["scheme"] == "URRBHI") & (persons["year"] == 2024)]
    ages, diseases = gz.published_groupings()
    design = person_design(part, ages, diseases, "URRBHI")
    y = part["fund_exp"].to_numpy()
    for year, kind in ((2023, "out-of-sample"), (2024, "in-sample")):
        predicted = design.to_numpy() @ standards.params("URRBHI", year)[design.columns].to_numpy()
        row = fit.loc[("URRBHI", f"{year} standards", 2024)]
        assert row["kind"] == kind
        expected = 1 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2)
        assert row["r_squared"] == pytest.approx(expected, abs=1e-10)
        assert row["predictive_ratio"] == pytest.approx(y.sum() / predicted.sum(), rel=1e-12)


# ----------------------------------------------------------------------------- confidentiality


def test_small_cells_are_suppressed(cells, standards):
    table = cells.table()
    small = table["suppressed"]
    assert small.any() and table.attrs["suppressed_cells"] == int(small.sum())
    assert table.loc[small, ["persons", "fund_exp", "per_capita"]].isna().all().all()
    assert (table.loc[~small, "persons"] >= 10).all()
    none = cells.table(min_cell_size=0)
    assert not none["suppressed"].any()
    grid = standards.standards_table()
    assert grid.loc[grid["suppressed"], "observed_mean"].isna().all()
    assert grid["standard"].notna().all()  # model standards are not disclosive
    with pytest.raises(ParameterError, match="min_cell_size"):
        cells.table(min_cell_size=-1)


# ----------------------------------------------------------------------------- whole analysis


def test_analysis_is_identical_from_dataframe_csv_and_parquet(persons, tmp_path):
    small = persons
    csv, parquet = tmp_path / "py.csv", tmp_path / "py.parquet"
    small.to_csv(csv, index=False)
    small.to_parquet(parquet, index=False)
    options = {"k_age": 3, "k_disease": K_PAPER}
    results = [cap.analyse_capitation(source, **options) for source in (small, csv, parquet)]
    first = results[0]
    for other in results[1:]:
        pd.testing.assert_frame_equal(first.cells.atoms, other.cells.atoms, check_exact=True)
        pd.testing.assert_frame_equal(first.estimates(), other.estimates(), check_exact=True)
        pd.testing.assert_frame_equal(first.simulation.table(), other.simulation.table(),
                                      check_exact=True)
        pd.testing.assert_frame_equal(first.predictive_ratios.table(),
                                      other.predictive_ratios.table(), check_exact=True)


def test_analysis_outputs_and_progress(persons):
    calls = []
    analysis = cap.analyse_capitation(persons, k_age=3, k_disease=K_PAPER, deciles=False,
                                      progress=lambda step, done, total: calls.append(
                                          (step, done, total)))
    assert calls[0][1] == 0 and calls[-1][1] == calls[-1][2]
    estimates = analysis.estimates()
    assert list(estimates.columns[:9]) == ["model", "outcome", "term", "estimate", "std_error",
                                           "p_value", "ci_low", "ci_high", "n_obs"]
    assert set(estimates["model"]) == {"screening", "payment model", "standard"}
    assert "g1-a1-ocsd0-inp0" in set(estimates["term"])
    diagnostics = analysis.diagnostics()
    assert diagnostics["drop_los"] is True and diagnostics["min_cell_size"] == 10
    assert not analysis.standards.include_los


def test_renamed_columns(persons):
    renamed = persons.rename(columns={"fund_exp": "基金支出", "person_id": "人员编号"})
    a = cap.cell_statistics(persons)
    b = cap.cell_statistics(renamed, columns={"fund_exp": "基金支出", "person_id": "人员编号"})
    pd.testing.assert_frame_equal(a.atoms, b.atoms, check_exact=True)
    with pytest.raises(ParameterError, match="columns"):
        cap.cell_statistics(persons, columns={"fund": "x"})


def test_figures(cells, standards):
    import matplotlib.pyplot as plt

    ages = cap.group_age_bands(cells)
    fig = plots.calinski_harabasz_figure(ages)
    assert len(fig.axes[0].lines) >= 2
    fig = plots.standards_heatmap(standards, "URRBHI", 2024)
    assert fig.axes[0].images[0].get_array().shape == (6, K_PAPER["URRBHI"] + 3)
    fig = plots.savings_figure(cap.simulate_blending(standards), published=gz.published("simulation"))
    assert len(fig.axes[0].lines) >= 3
    plt.close("all")


# ----------------------------------------------------------------------------- data contract


@pytest.fixture(scope="module")
def contract_rows() -> pd.DataFrame:
    rows = []
    for i in range(1, 13):
        for year in (2023, 2024):
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


BAD_INPUTS = [
    ("age below 0", lambda f: edit(f, 4, "age", -1), r"column 'age' has -1 in row 6, outside 0-120"),
    ("age above 120", lambda f: edit(f, 5, "age", 121), r"column 'age' has 121 in row 7, outside 0-120"),
    ("unknown scheme", lambda f: edit(f, 2, "scheme", "UEBHX"),
     r"column 'scheme' has the unknown code 'UEBHX' in row 4 \(did you mean 'UEBHI'\?\)"),
    ("unknown gender", lambda f: edit(f, 3, "gender", 3),
     r"column 'gender' has the unknown code '3' in row 5; use 1 \(male\) or 2 \(female\)"),
    ("unknown disease", lambda f: edit(f, 6, "ocsd", "DM;hypertensio"),
     r"column 'ocsd' has the unknown disease code 'hypertensio' in row 8 \(did you mean "
     r"'hypertension'\?\)"),
    ("wrong separator", lambda f: edit(f, 6, "ocsd", "DM,CHD"),
     r"column 'ocsd' has 'DM,CHD' in row 8; separate disease codes with ';'"),
    ("disease twice", lambda f: edit(f, 6, "ocsd", "DM;dm"),
     r"column 'ocsd' lists 'DM' more than once in row 8"),
    ("duplicate person-year", lambda f: edit(f, 2, "person_id", "P001"),
     r"person 'P001' appears more than once in year 2023 \(row 2 and row 4\)"),
    ("negative expenditure", lambda f: edit(f, 9, "fund_exp", -3.5),
     r"column 'fund_exp' has -3.5 in row 11, below 0; expenditures cannot be negative"),
    ("missing year for weighting", lambda f: f[~((f["scheme"] == "URRBHI") & (f["year"] == 2023))],
     r"scheme URRBHI has no rows for year 2023 \(it has 2024\); the multi-year weighting needs "
     r"2023 and 2024"),
    ("misspelled column", lambda f: f.rename(columns={"fund_exp": "fund_exps"}),
     r"column 'fund_exp' not found \(did you mean 'fund_exps'\?\).*set fund_exp="),
    ("text in a number column", lambda f: edit(f, 7, "age", "forty"),
     r"column 'age' has the non-numeric value 'forty' in row 9; it must hold numbers only"),
    ("empty required value", lambda f: edit(f, 8, "gender", None),
     r"column 'gender' is empty in row 10"),
    ("inpatient code", lambda f: edit(f, 1, "inpatient_prev_year", 2),
     r"column 'inpatient_prev_year' has 2 in row 3; use 1"),
    ("fractional stay", lambda f: edit(f, 1, "los", 2.5),
     r"column 'los' has 2.5 in row 3; the length of stay must be whole days"),
    ("no rows", lambda f: f.iloc[:0], r"the data have no rows"),
]


@pytest.mark.parametrize("label, change, message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gets_a_one_line_error_and_the_file_is_untouched(contract_rows, tmp_path,
                                                                   label, change, message):
    path = tmp_path / "bad.csv"
    change(contract_rows).to_csv(path, index=False)
    before = sha256(path)
    with pytest.raises(ContractError, match=message) as error:
        cap.validate_person_years(path)
    assert "\n" not in str(error.value)
    assert sha256(path) == before
    # the same rule fires from a DataFrame and from the analysis entry point
    with pytest.raises(ContractError, match=message):
        cap.cell_statistics(change(contract_rows))


def test_good_contract_rows_pass_and_parquet_row_numbers(contract_rows, tmp_path):
    result = cap.validate_person_years(contract_rows)
    assert result.rows == len(contract_rows)
    assert result.table()["persons"].tolist() == [6, 6, 6, 6]
    path = tmp_path / "bad.parquet"
    bad = contract_rows.copy()
    bad.loc[10, "age"] = 150
    bad.to_parquet(path, index=False)
    with pytest.raises(ContractError, match="column 'age' has 150 in row 12"):
        cap.validate_person_years(path)


def test_gbk_csv_and_codes(contract_rows, tmp_path):
    path = tmp_path / "gbk.csv"
    frame = contract_rows.assign(scheme=contract_rows["scheme"].map(
        {"UEBHI": "职工医保", "URRBHI": "390"}), gender=contract_rows["gender"].map({1: "男", 2: "女"}))
    frame.to_csv(path, index=False, encoding="gbk", sep=";")
    before = sha256(path)
    cells_gbk = cap.cell_statistics(path)
    cells_utf8 = cap.cell_statistics(contract_rows)
    pd.testing.assert_frame_equal(cells_gbk.atoms, cells_utf8.atoms, check_exact=True)
    assert sha256(path) == before
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(ContractError, match="file 'empty.csv' is empty"):
        cap.validate_person_years(tmp_path / "empty.csv")
    (tmp_path / "book.xlsx").write_bytes(b"PK")
    with pytest.raises(ContractError, match="Excel workbook"):
        cap.validate_person_years(tmp_path / "book.xlsx")
    with pytest.raises(ContractError, match="does not exist"):
        cap.validate_person_years(tmp_path / "missing.csv")
