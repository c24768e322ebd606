"""GZ capitation method: cell-statistics OLS against person-level statsmodels, exact 1-D
clustering against brute force, Calinski-Harabasz, the rules that choose k, blending arithmetic,
predictive ratios by tenth of predicted cost recomputed person by person, fit statistics, and
identical results from a DataFrame, a CSV file and a Parquet file."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from payreform import capitation as cap
from payreform import plots
from payreform.errors import ParameterError
from payreform.synth import gz

COEF_TOL = 1e-8
SE_TOL = 1e-6
K_PAPER = {"UEBHI": 4, "URRBHI": 5}
K_SMALL = {"UEBHI": 4, "URRBHI": 3}
"""At this scale URRBHI has three diseases with 10 single-disease patients, plus the pooled rest."""


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def persons() -> pd.DataFrame:
    """About 36,000 synthetic person-years (both schemes, 2023 and 2024)."""
    return gz.generate(seed=11, scale=0.002)


@pytest.fixture(scope="module")
def cells(persons):
    return cap.cell_statistics(persons)


@pytest.fixture(scope="module")
def published_groups():
    return cap.paper_groupings()


@pytest.fixture(scope="module")
def standards(cells, published_groups):
    ages, diseases = published_groups
    return cap.payment_standards(cells, ages, diseases)


# ------------------------------------------------------------------------- person-level reference

LOWER = [0, 6, 11, 16, 26, 36, 46, 56, 61, 66, 71, 76, 81, 86, 91, 96, 101]
LABELS = ["0-5", "6-10", "11-15", "16-25", "26-35", "36-45", "46-55", "56-60", "61-65",
          "66-70", "71-75", "76-80", "81-85", "86-90", "91-95", "96-100", "101+"]


def person_cells(frame: pd.DataFrame, structure) -> pd.DataFrame:
    """Each person's model cell, from the (pooled) groupings, written out independently."""
    band = pd.cut(frame["age"], bins=[*LOWER, 200], right=False, labels=LABELS).astype(str)
    codes = frame["ocsd"].fillna("").astype(str).str.strip()
    count = codes.map(lambda text: 0 if text == "" else len(text.split(";")))
    state = np.where(count == 0, "none", np.where(count == 1, codes.map(
        lambda c: f"single:{structure.single_groups.get(c, 0)}"),
        np.where(count == 2, "two", "three")))
    return pd.DataFrame({
        "gender": frame["gender"].to_numpy(), "age_group": band.map(structure.age_groups)
        .astype(int).to_numpy(), "ocsd_group": pd.Series(state).map(structure.states).to_numpy(),
        "inpatient": frame["inpatient_prev_year"].to_numpy()}, index=frame.index)


def person_design(frame: pd.DataFrame, standards, scheme: str) -> pd.DataFrame:
    """The payment model's design written out person by person (independent of the package)."""
    structure = standards.structures[scheme]
    c = person_cells(frame, structure)
    design = {"intercept": np.ones(len(frame))}
    for term in structure.terms()[1:]:
        parts = term.split("_")
        if term.startswith("gender_age_"):
            column = (c["gender"] == int(parts[2])) & (c["age_group"] == int(parts[3]))
        elif term.startswith("age_"):
            column = c["age_group"] == int(parts[1])
        elif term.startswith("ocsd_"):
            column = c["ocsd_group"] == int(parts[1])
        else:
            column = c["inpatient"] == 1
        design[term] = column.astype(float).to_numpy()
    return pd.DataFrame(design, index=frame.index)


def screening_design(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "intercept": 1.0, "gender": (frame["gender"] == 2).astype(float),
        "age": frame["age"].astype(float), "ocsd": (frame["ocsd"].fillna("") != "").astype(float),
        "inpatient": frame["inpatient_prev_year"].astype(float), "los": frame["los"].astype(float)},
        index=frame.index)


# ----------------------------------------------------------------------------- payment model OLS


def test_cell_statistics_ols_equals_person_level_statsmodels(persons, standards):
    # URRBHI's small disease groups are pooled at this scale; the reference follows the pooling
    assert any("URRBHI" in note for note in standards.notes)
    for scheme in gz.SCHEMES:
        for year in gz.YEARS:
            part = persons[(persons["scheme"] == scheme) & (persons["year"] == year)]
            design = person_design(part, standards, scheme)
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
    assert (table["standard"] >= 0).all() and not table["floored"].any()
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
    design = person_design(part, with_los, "URRBHI")
    design["los"] = part["los"].astype(float)
    reference = sm.OLS(part["fund_exp"].to_numpy(), design).fit(cov_type="HC1")
    ours = with_los.coefficients.query("scheme == 'URRBHI' and year == 2024").set_index("term")
    np.testing.assert_allclose(ours["estimate"], reference.params, rtol=0, atol=COEF_TOL)
    np.testing.assert_allclose(ours["std_error"], reference.bse, rtol=0, atol=SE_TOL)


# ----------------------------------------------------------------------------- screening


def test_screening_from_sufficient_statistics_equals_statsmodels(persons, cells):
    screening = cap.screen_factors(cells)
    for scheme in gz.SCHEMES:
        for year in gz.YEARS:
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


def test_elbow_rule_by_hand_and_choose_k_branches():
    # chord from (k=1, 1.0) to (k=5, 0.12) after scaling; k=2 lies farthest below it
    wss = [100.0, 30.0, 20.0, 15.0, 12.0]
    x = (np.arange(1, 6) - 1) / 4
    y = np.array(wss) / 100
    gap = (y[0] + (y[-1] - y[0]) * x) - y
    assert cap.elbow([1, 2, 3, 4, 5], wss) == 1 + int(np.argmax(gap[1:-1])) + 1
    # a straight line has no elbow: the smallest k above 1
    assert cap.elbow([1, 2, 3, 4], [100.0, 75.0, 50.0, 25.0]) == 2
    with pytest.raises(ParameterError, match="k = 1"):
        cap.elbow([2, 3], [1.0, 0.5])
    # choose_k: a CH peak is used when there is one ...
    x = np.array([1.0, 2.0, 3.0, 11.0, 12.0, 13.0, 21.0, 22.0, 23.0, 40.0])
    path = cap.kmeans_path(x, np.ones(len(x)), range(1, 6))
    ch = [path[k].calinski_harabasz for k in range(2, 6)]
    assert cap.choose_k(path) == (cap.first_peak(range(2, 6), ch)[0], cap.RULE_FIRST_PEAK)
    # ... and the elbow when the index rises to the end (the paper's published means)
    table = cap.paper_grouping_table().query("scheme == 'URRBHI' and dimension == 'disease'")
    z = cap.standardise(table["per_capita"].to_numpy(float), np.ones(len(table)))
    path = cap.kmeans_path(z, np.ones(len(z)), range(1, 11))
    ch = [path[k].calinski_harabasz for k in range(2, 11)]
    assert not cap.first_peak(range(2, 11), ch)[1]
    k, rule = cap.choose_k(path)
    assert rule == cap.RULE_ELBOW
    assert k == cap.elbow(range(1, 11), [path[k].within_ss for k in range(1, 11)])


def test_grouping_of_age_bands_and_cv(cells):
    ages = cap.group_age_bands(cells, k=3)
    for scheme in gz.SCHEMES:
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
    diseases = cap.group_diseases(cells, k=K_SMALL)
    for scheme, k in K_SMALL.items():
        items = diseases.items[diseases.items["scheme"] == scheme]
        means = items.groupby("group")["per_capita"].mean()
        assert list(means.index) == list(range(1, k + 1))
        assert means.is_monotonic_decreasing  # disease group 1 is the dearest, as the paper
    with pytest.raises(ParameterError, match="'k_disease' is 5 but URRBHI has only 4 diseases"):
        cap.group_diseases(cells, k=K_PAPER)
    other = diseases.items.query("scheme == 'URRBHI' and item == 'other diseases'")
    assert len(other) == 1 and other["persons"].item() >= 10
    curve = cap.group_age_bands(cells, k_max=6).curve
    assert curve.groupby("scheme")["k"].max().tolist() == [6, 6]
    assert curve.groupby("scheme")["k"].min().tolist() == [1, 1]
    with pytest.raises(ParameterError, match="weighting"):
        cap.group_age_bands(cells, weighting="people")


def test_published_groupings_against_exact_clustering_of_published_means():
    """What the exact optimum says about the paper's groupings (reported in the chapter)."""
    published = cap.paper_grouping_table()
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
    groups = cap.compare_groupings(cap.paper_grouping_table()).group_table()
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


def test_bands_missing_from_the_clustered_year_take_the_nearest_bands_group(persons):
    # drop URRBHI's oldest bands in 2024 only: the 2024 clustering does not see them
    frame = persons[~((persons["scheme"] == "URRBHI") & (persons["year"] == 2024)
                      & (persons["age"] >= 91))]
    cells = cap.cell_statistics(frame)
    ages = cap.group_age_bands(cells, k=3)
    assert "91-95" not in set(ages.items.query("scheme == 'URRBHI'")["members"])
    mapping = ages.mapping("URRBHI")
    # the nearest band in age that was clustered is 86-90: its group, whatever the spending
    assert mapping["91-95"] == mapping["96-100"] == mapping["101+"] == mapping["86-90"]
    # with a plain mapping, a missing item is an error instead
    ages_paper, diseases_paper = cap.paper_groupings()
    plain = {s: {b: g for b, g in m.items() if (s, b) != ("URRBHI", "91-95")}
             for s, m in ages_paper.items()}
    with pytest.raises(ParameterError, match="age band '91-95' occurs in URRBHI"):
        cap.payment_standards(cap.cell_statistics(persons), plain, diseases_paper)
    with pytest.raises(ParameterError, match="without gaps"):
        cap.payment_standards(cells, {"UEBHI": {"16-25": 1, "26-35": 3}, "URRBHI": {}},
                              diseases_paper)


# ----------------------------------------------------------------------------- weighting


def test_blending_and_savings_by_hand(persons, standards):
    simulation = cap.simulate_blending(standards, omegas=[0.0, 0.25, 0.5, 1.0])
    table = simulation.table().set_index(["scheme", "omega"])
    totals = {}
    for scheme in gz.SCHEMES:
        part = persons[(persons["scheme"] == scheme) & (persons["year"] == 2024)]
        design = person_design(part, standards, scheme)
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
    assert simulation.base_year == 2023 and simulation.target_year == 2024
    assert "omega 0.5" in simulation.summary()
    with pytest.raises(ParameterError, match="omegas"):
        cap.simulate_blending(standards, omegas=[1.5])
    assert cap.omega_grid(0.25) == [0.0, 0.25, 0.5, 0.75, 1.0]
    for bad in (0, 0.3, 1.5):
        with pytest.raises(ParameterError, match="omega_step"):
            cap.omega_grid(bad)


# ----------------------------------------------------------------------------- beyond the paper


def test_predictive_ratios_in_and_out_of_sample(persons, standards):
    ratios = cap.predictive_ratios(standards, omegas=(1.0, 0.0)).ratios
    inside = ratios[ratios["omega"] == 1.0]
    # OLS normal equations: exactly 1 for every gender x age group and OCSD group in sample
    for dimension in ("scheme", "gender_age_group", "ocsd_group"):
        np.testing.assert_allclose(inside.loc[inside["dimension"] == dimension, "ratio"], 1.0,
                                   atol=1e-9)
    # tenths of predicted cost, recomputed person by person: rank persons by the standard they
    # are paid, cut at tenths of persons, a cell goes where its middle person falls
    part = persons[(persons["scheme"] == "UEBHI") & (persons["year"] == 2024)]
    design = person_design(part, standards, "UEBHI")
    for omega, year in ((1.0, 2024), (0.0, 2023)):
        predicted = design.to_numpy() @ standards.params("UEBHI", year)[design.columns].to_numpy()
        frame = pd.DataFrame({"p": predicted, "y": part["fund_exp"].to_numpy()})
        by_value = frame.groupby("p").agg(n=("y", "size")).reset_index().sort_values("p")
        middle = (by_value["n"].cumsum() - by_value["n"] / 2) / len(frame)
        by_value["tenth"] = np.minimum(10, np.floor(middle * 10).astype(int) + 1)
        frame = frame.merge(by_value[["p", "tenth"]], on="p")
        expected = frame.groupby("tenth").apply(lambda f: f["y"].sum() / f["p"].sum(),
                                                include_groups=False)
        ours = ratios[(ratios["scheme"] == "UEBHI") & (ratios["omega"] == omega)
                      & (ratios["dimension"] == "predicted_tenth")]
        ours = ours.set_index(ours["level"].astype(int)).sort_index()
        assert list(ours.index) == list(expected.index)
        np.testing.assert_allclose(ours["ratio"].to_numpy(), expected.to_numpy(), rtol=1e-10)
        sizes = frame.groupby("tenth").size()
        np.testing.assert_array_equal(ours["persons"].to_numpy(), sizes.to_numpy())
        # each tenth lists the range of the standards paid in it
        low = frame.groupby("tenth")["p"].min()
        np.testing.assert_allclose(ours["standard_low"].to_numpy(), low.to_numpy(), rtol=1e-12)


def test_predicted_tenths_keep_equal_predictions_together():
    tenths = cap.predicted_tenths(np.array([5.0, 1.0, 3.0, 3.0]), np.array([10, 30, 40, 20]))
    # ranked 1 (30 persons), 3 and 3 (60 persons together), 5 (10): middles 0.15, 0.6, 0.95
    assert tenths.tolist() == [10, 2, 7, 7]
    assert set(cap.predicted_tenths(np.arange(10.0), np.ones(10, int))) == set(range(1, 11))


def test_fit_statistics_out_of_sample(persons, standards):
    fit = cap.fit_statistics(standards).table().set_index(["scheme", "standards", "evaluated_on"])
    part = persons[(persons["scheme"] == "URRBHI") & (persons["year"] == 2024)]
    design = person_design(part, standards, "URRBHI")
    y = part["fund_exp"].to_numpy()
    for year, kind in ((2023, "out-of-sample"), (2024, "in-sample")):
        predicted = design.to_numpy() @ standards.params("URRBHI", year)[design.columns].to_numpy()
        row = fit.loc[("URRBHI", f"{year} standards", 2024)]
        assert row["kind"] == kind
        expected = 1 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2)
        assert row["r_squared"] == pytest.approx(expected, abs=1e-10)
        assert row["predictive_ratio"] == pytest.approx(y.sum() / predicted.sum(), rel=1e-12)


# ----------------------------------------------------------------------------- whole analysis


def test_analysis_is_identical_from_dataframe_csv_and_parquet(persons, tmp_path):
    csv, parquet = tmp_path / "py.csv", tmp_path / "py.parquet"
    persons.to_csv(csv, index=False)
    persons.to_parquet(parquet, index=False)
    options = {"k_age": 3, "k_disease": K_SMALL}
    results = [cap.analyse_capitation(source, **options) for source in (persons, csv, parquet)]
    first = results[0]
    for other in results[1:]:
        pd.testing.assert_frame_equal(first.cells.atoms, other.cells.atoms, check_exact=True)
        pd.testing.assert_frame_equal(first.estimates(), other.estimates(), check_exact=True)
        pd.testing.assert_frame_equal(first.simulation.table(), other.simulation.table(),
                                      check_exact=True)
        pd.testing.assert_frame_equal(first.predictive_ratios.table(),
                                      other.predictive_ratios.table(), check_exact=True)


def test_analysis_outputs_summary_and_progress(persons):
    calls = []
    analysis = cap.analyse_capitation(persons, k_age=3, k_disease=K_SMALL,
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
    assert diagnostics["years"] == [2023, 2024]
    assert not analysis.standards.include_los
    assert "35,781 person-years" in repr(analysis)
    text = analysis.summary()
    assert "R²" in text and "omega 0.5" in text and "age groups (given)" in text


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
    fig = plots.standards_heatmap(standards, "UEBHI", 2024)
    assert fig.axes[0].images[0].get_array().shape == (6, K_PAPER["UEBHI"] + 3)
    fig = plots.savings_figure(cap.simulate_blending(standards),
                               published=gz.published("simulation"))
    assert len(fig.axes[0].lines) >= 3
    ratios = cap.predictive_ratios(standards).table()
    fig = plots.predictive_ratio_figure(ratios[ratios["omega"] == 1.0])
    assert len(fig.axes) == 3
    plt.close("all")


def test_modules_form_one_chain_without_loops():
    """schema <- io <- contract <- cells <- screening, kmeans1d <- grouping <- standards <-
    blending, evaluation <- analysis: each module imports only from modules before it."""
    import ast
    from pathlib import Path

    order = ["schema", "io", "contract", "cells", "screening", "kmeans1d", "grouping",
             "standards", "blending", "evaluation", "analysis"]
    files = {name: Path(cap.__file__).with_name(f"{name}.py") for name in order
             if name not in ("io", "contract")}
    files["io"] = Path(cap.__file__).parents[1] / "io" / "duckdb_source.py"
    files["contract"] = Path(cap.__file__).parents[1] / "contracts" / "person_years.py"
    module_of = {"payreform.io.duckdb_source": "io", "payreform.io": "io",
                 "payreform.io.tables": "io", "payreform.io.rules": "io",
                 "payreform.contracts.person_years": "contract"}
    module_of |= {f"payreform.capitation.{name}": name for name in order}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module}
        used = {module_of[m] for m in imported if m in module_of} - {name}
        later = [u for u in used if order.index(u) > order.index(name)]
        assert not later, (name, later)
        assert "payreform.capitation" not in imported, name  # never the package itself
    sizes = {p.name: len(p.read_text().splitlines())
             for p in Path(cap.__file__).parent.glob("*.py")}
    assert max(sizes.values()) <= 800, sizes
