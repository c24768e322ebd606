"""Checks around the event study: the joint pre-trend test and the balance table (Table 1).

Joint pre-trend test
--------------------
:func:`pretrend_test` reports ``F = W / q`` with ``W = (Rb)' (R V R')^-1 (Rb)`` the Wald
statistic of the ``q`` pre-period terms, referred to F(q, G - 1). ``W`` alone is asymptotically
chi-square(q); dividing by ``q`` and using G - 1 denominator degrees of freedom is the
small-sample version that matches the t-tests (F(1, G-1) = t(G-1)^2), because the
cluster-robust covariance is estimated from only G cluster sums. This is what Stata's ``test``
prints after ``xtreg, fe vce(cluster)``. A common mistake is to refer W (not W/q) to an F
table, or to use N - K denominator degrees of freedom with clustered errors.

Balance table
-------------
:func:`balance_table` gives, for each variable and year, the treated and control means with
their standard deviations, the difference and Welch's t test, and the treated group's last
year against its first (paired), as the CCMC study's Table 1 does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from payreform.contracts import validate_panel
from payreform.did.defaults import balance_years
from payreform.did.event_study import EventStudyResult
from payreform.errors import ContractError, ParameterError
from payreform.inference import LinearCombination

__all__ = ["BalanceTable", "PretrendTest", "balance_table", "pretrend_test"]


@dataclass(frozen=True, eq=False)
class PretrendTest:
    """Joint Wald F test of the pre-period interaction terms, beside their individual t tests.

    Attributes
    ----------
    terms
        The terms tested (jointly zero under parallel trends).
    statistic
        ``F = W / q`` with ``W = (Rb)'(RVR')^-1(Rb)``.
    wald
        ``W`` (asymptotically chi-square with q df).
    df1, df2
        Numerator ``q`` and denominator degrees of freedom (G - 1 for clustered errors).
    p_value
        Upper tail of F(df1, df2) at :attr:`statistic`.
    individual
        One :class:`~payreform.inference.LinearCombination` per term (t tests with df2 df).
    """

    terms: tuple[str, ...]
    statistic: float
    wald: float
    df1: int
    df2: int
    p_value: float
    individual: tuple[LinearCombination, ...]

    def table(self) -> pd.DataFrame:
        """Individual t tests, then the joint F test: term, estimate, std_error, test, statistic, df, p_value."""
        rows = []
        for combo in self.individual:
            rows.append({"term": combo.name, "estimate": combo.estimate, "std_error": combo.std_error,
                         "test": f"t({self.df2})", "statistic": combo.statistic,
                         "df": str(self.df2), "p_value": combo.p_value})
        rows.append({"term": "joint: " + ", ".join(self.terms), "estimate": np.nan, "std_error": np.nan,
                     "test": f"F({self.df1}, {self.df2})", "statistic": self.statistic,
                     "df": f"{self.df1}, {self.df2}", "p_value": self.p_value})
        return pd.DataFrame(rows, columns=["term", "estimate", "std_error", "test", "statistic", "df", "p_value"])

    def rejects(self, alpha: float = 0.05) -> bool:
        """True if the joint test rejects parallel pre-trends at level ``alpha``."""
        return bool(self.p_value < alpha)

    def diagnostics(self) -> dict:
        """F, its degrees of freedom, the Wald statistic and the p-value (for ``results.json``)."""
        return {"terms": list(self.terms), "F": self.statistic, "wald": self.wald, "df1": self.df1,
                "df2": self.df2, "p_value": self.p_value,
                "individual_p_values": {c.name: c.p_value for c in self.individual}}

    def summary(self) -> str:
        """One line: the joint F test and the individual t tests."""
        individual = ", ".join(f"{c.name} p = {c.p_value:.3g}" for c in self.individual)
        return (f"joint test of {', '.join(self.terms)}: F({self.df1}, {self.df2}) = {self.statistic:.3g}, "
                f"p = {self.p_value:.3g} ({individual})")

    def __repr__(self) -> str:
        return f"PretrendTest(terms={list(self.terms)}, F={self.statistic:.4g}, p_value={self.p_value:.4g})"


def pretrend_test(result: EventStudyResult, terms: Sequence[str] | None = None) -> PretrendTest:
    """Joint test that the pre-period interaction terms are all zero.

    ``F = (Rb)' (R V R')^-1 (Rb) / q`` on ``(q, df_resid)`` degrees of freedom, where ``V`` is
    the fit's covariance (clustered or iid) and ``df_resid`` is G - 1 for clustered errors (why:
    see the module docstring).

    Parameters
    ----------
    result
        A fitted :func:`payreform.did.event_study`.
    terms
        Terms to test; default: the interaction terms before the reference period
        (``did2018``, ``did2019`` in the paper).

    Examples
    --------
    >>> from payreform.synth import ccmc
    >>> from payreform.did import event_study
    >>> fit = event_study(ccmc.generate(seed=1), outcome="income_primary_care_staff",
    ...                   unit="county_id", time="year", treated="treated", did_base=2020)
    >>> test = pretrend_test(fit)
    >>> test.terms, test.df1, test.df2, test.rejects(0.001)
    (('did2018', 'did2019'), 2, 527, True)
    """
    if terms is None:
        terms = result.pre_terms
        if not terms:
            raise ParameterError(
                "the model has no pre-period interaction terms (the reference period is the first year); "
                "choose a later did_base or event_base"
            )
    terms = [str(t) for t in ([terms] if isinstance(terms, str) else terms)]
    unknown = [t for t in terms if t not in result.params.index]
    if unknown:
        raise ParameterError(f"term '{unknown[0]}' is not in the model; its terms are {', '.join(result.params.index)}")
    if len(set(terms)) != len(terms):
        raise ParameterError("parameter 'terms' names a term twice; list each term once")
    b = result.params[terms].to_numpy()
    v = result.cov.loc[terms, terms].to_numpy()
    try:
        wald = float(b @ np.linalg.solve(v, b))
    except np.linalg.LinAlgError as error:
        raise ParameterError("the covariance of the tested terms is singular; test fewer terms") from error
    q = len(terms)
    if q > result.df_resid:
        raise ParameterError(f"cannot test {q} terms jointly with {result.df_resid + 1} clusters; test fewer terms")
    statistic = wald / q
    return PretrendTest(
        terms=tuple(terms), statistic=statistic, wald=wald, df1=q, df2=result.df_resid,
        p_value=float(stats.f.sf(statistic, q, result.df_resid)),
        individual=tuple(result.term(t) for t in terms),
    )


# ============================================================================ balance table

BALANCE_COLUMNS = ["variable", "year", "comparison", "label_1", "mean_1", "sd_1", "n_1", "label_2", "mean_2",
                   "sd_2", "n_2", "difference", "statistic", "df", "p_value", "test"]


@dataclass(frozen=True, eq=False)
class BalanceTable:
    """Group means, SDs, differences and t tests by year (the paper's Table 1).

    See :func:`balance_table`. :meth:`table` is the tidy long form; :meth:`wide` is the table a
    reader expects: one row per variable, for each year the treated and control mean (SD), the
    difference and its p-value, then the treated group's last year against its first.
    """

    rows: pd.DataFrame = field(repr=False)
    welch: bool
    years: tuple[int, ...] = ()
    variables: tuple[str, ...] = ()

    def table(self) -> pd.DataFrame:
        """One row per variable, year and comparison.

        Columns: variable, year, comparison, label_1, mean_1, sd_1, n_1, label_2, mean_2, sd_2,
        n_2, difference (1 minus 2), statistic, df, p_value, test.
        """
        return self.rows.copy()

    def between(self) -> pd.DataFrame:
        """The treated-vs-control rows only."""
        return self.rows[self.rows["comparison"] == "treated vs control"].reset_index(drop=True)

    def within(self) -> pd.DataFrame:
        """The treated group's last year against its first (one row per variable)."""
        return self.rows[self.rows["comparison"] != "treated vs control"].reset_index(drop=True)

    def significant(self, year: int, alpha: float = 0.05) -> list[str]:
        """Variables whose treated and control means differ at level ``alpha`` in ``year``."""
        rows = self.between()
        rows = rows[(rows["year"] == year) & (rows["p_value"] < alpha)]
        return rows["variable"].tolist()

    def wide(self, digits: int = 2, labels: dict[str, str] | None = None) -> pd.DataFrame:
        """Table 1 as text: rows = variables; for each year "treated mean (SD)", "control mean
        (SD)", "difference", "p"; then the within-treated comparison's difference and p.

        Examples
        --------
        >>> from payreform.synth import ccmc
        >>> t = balance_table(ccmc.generate(seed=1), unit="county_id", time="year",
        ...                   treated="treated", variables=["population_density"], years=[2018, 2022])
        >>> list(t.wide().columns.get_level_values(1))[:4]
        ['treated mean (SD)', 'control mean (SD)', 'difference', 'p']
        """
        labels = labels or {}
        number = lambda v: "" if pd.isna(v) else f"{v:,.{digits}f}"  # noqa: E731
        mean_sd = lambda m, s: "" if pd.isna(m) else f"{number(m)} ({number(s)})"  # noqa: E731
        columns: dict[tuple[str, str], list[str]] = {}
        order = list(self.variables) or list(dict.fromkeys(self.rows["variable"]))
        for year in self.years:
            rows = self.between()
            rows = rows[rows["year"] == year].set_index("variable").reindex(order)
            section = str(year)
            columns[(section, "treated mean (SD)")] = [mean_sd(m, s) for m, s in zip(rows["mean_1"], rows["sd_1"],
                                                                                       strict=True)]
            columns[(section, "control mean (SD)")] = [mean_sd(m, s) for m, s in zip(rows["mean_2"], rows["sd_2"],
                                                                                       strict=True)]
            columns[(section, "difference")] = [number(v) for v in rows["difference"]]
            columns[(section, "p")] = [format_p(v) for v in rows["p_value"]]
        within = self.within()
        if not within.empty:
            rows = within.set_index("variable").reindex(order)
            section = str(within["comparison"].iloc[0])
            columns[(section, "difference")] = [number(v) for v in rows["difference"]]
            columns[(section, "p")] = [format_p(v) for v in rows["p_value"]]
        out = pd.DataFrame(columns, index=[labels.get(v, v) for v in order])
        out.columns = pd.MultiIndex.from_tuples(list(columns))
        out.index.name = "variable"
        return out

    def diagnostics(self) -> dict:
        """Years, test and the variables that differ at 5% in each year (for ``results.json``)."""
        return {"years": list(self.years), "test": "Welch t" if self.welch else "pooled t",
                "different_at_5pct": {str(y): self.significant(y) for y in self.years}}

    def summary(self) -> str:
        """One line per year: which variables differ between the groups at 5%."""
        lines = []
        for year in self.years:
            found = self.significant(year)
            lines.append(f"{year}: " + (", ".join(found) if found else "no variable") + " differs at 5%")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"BalanceTable(variables={len(self.variables)}, years={list(self.years)}, "
                f"test={'Welch' if self.welch else 'pooled'})")


def format_p(p: float) -> str:
    """A p-value as printed in tables: ``0.034``, ``<0.001``, or empty when missing.

    Examples
    --------
    >>> format_p(0.0341), format_p(0.00002), format_p(float("nan"))
    ('0.034', '<0.001', '')
    """
    if p is None or not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _two_sample(a: np.ndarray, b: np.ndarray, welch: bool) -> tuple[float, float, float]:
    """t statistic, degrees of freedom and two-sided p-value of mean(a) - mean(b)."""
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan"), float("nan")
    va, vb = a.var(ddof=1), b.var(ddof=1)
    na, nb = len(a), len(b)
    if welch:
        se2 = va / na + vb / nb
        df = se2**2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1)) if se2 > 0 else float("nan")
    else:
        pooled = ((na - 1) * va + (nb - 1) * vb) / (na + nb - 2)
        se2 = pooled * (1 / na + 1 / nb)
        df = na + nb - 2
    if se2 <= 0:
        return float("nan"), float(df), float("nan")
    t = (a.mean() - b.mean()) / math.sqrt(se2)
    return float(t), float(df), float(2 * stats.t.sf(abs(t), df))


def _describe(values: np.ndarray) -> tuple[float, float, int]:
    """Mean, SD (n - 1) and count; NaN where undefined."""
    n = len(values)
    mean = float(values.mean()) if n else float("nan")
    sd = float(values.std(ddof=1)) if n >= 2 else float("nan")
    return mean, sd, n


def _row(variable, year, comparison, labels, a, b, statistic, df, p, test) -> dict:
    mean_1, sd_1, n_1 = _describe(a)
    mean_2, sd_2, n_2 = _describe(b)
    return {"variable": variable, "year": year, "comparison": comparison, "label_1": labels[0], "mean_1": mean_1,
            "sd_1": sd_1, "n_1": n_1, "label_2": labels[1], "mean_2": mean_2, "sd_2": sd_2, "n_2": n_2,
            "difference": mean_1 - mean_2 if n_1 and n_2 else float("nan"), "statistic": statistic,
            "df": df, "p_value": p, "test": test}


def balance_table(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    treated: str | None = None,
    variables: Sequence[str],
    years: Sequence[int] | None = None,
    welch: bool = True,
    first_treated: str | None = None,
) -> BalanceTable:
    """Means (SD) of treated and control units by year with two-sample t tests (Table 1).

    For each variable and year: treated mean and SD, control mean and SD, their difference and
    the t test of the difference (Welch's unequal-variance test by default; ``welch=False`` gives
    the pooled-variance Student test). Then the treated group's last year against its first: a
    paired t test on the treated units observed in both years when every treated unit is
    (balanced), otherwise a two-sample test of the two years' treated values (the ``test``
    column says which). With ``first_treated`` the treated group is every unit that ever adopts.

    Parameters
    ----------
    data
        Unit-by-year panel; not modified.
    unit, time, treated
        Unit, year and 0/1 treatment-group columns (or ``first_treated``: adoption year).
    variables
        Columns to describe (outcomes and controls).
    years
        Years to tabulate; default: the first year, the adoption year (with ``first_treated``
        and one adoption year) and the last year present. The first and last are compared
        within the treated group.
    welch
        Welch (True) or pooled-variance (False) two-sample tests.

    Examples
    --------
    >>> from payreform.synth import ccmc
    >>> table = balance_table(ccmc.generate(seed=1), unit="county_id", time="year",
    ...                       treated="treated", variables=["population_density"]).table()
    >>> table[["year", "comparison"]].values.tolist()
    [[2018, 'treated vs control'], [2022, 'treated vs control'], [2022, 'treated 2022 vs 2018']]
    """
    if isinstance(variables, str):
        variables = [variables]
    variables = [str(v) for v in variables]
    if not variables:
        raise ParameterError("parameter 'variables' is empty; name the columns to describe")
    panel = validate_panel(data, unit=unit, time=time, outcomes=variables, treated=treated,
                           first_treated=first_treated)
    years = list(balance_years(panel)) if years is None else [int(y) for y in years]
    if not years:
        raise ParameterError(
            f"parameter 'years' is empty; give the years to tabulate, e.g. {panel.years[0]},{panel.years[-1]}"
        )
    for y in years:
        if y not in panel.years:
            raise ContractError(
                f"year {y} in parameter 'years' is not in column '{time}' ({panel.years[0]}-{panel.years[-1]})"
            )
    frame = panel.frame
    if "cohort" in frame:  # adoption after the last year: never treated within the window
        frame = frame.assign(treated=(frame["cohort"] <= panel.years[-1]).astype(int))
    test_name = "Welch t" if welch else "pooled t"
    rows = []
    for variable in variables:
        for y in years:
            sub = frame.loc[frame["year"] == y]
            a = sub.loc[sub["treated"] == 1, variable].dropna().to_numpy()
            b = sub.loc[sub["treated"] == 0, variable].dropna().to_numpy()
            t, df, p = _two_sample(a, b, welch)
            rows.append(_row(variable, y, "treated vs control", ("treated", "control"), a, b, t, df, p, test_name))
        if len(years) >= 2:
            first, last = years[0], years[-1]
            tr = frame.loc[frame["treated"] == 1, ["unit", "year", variable]]
            wide = tr.pivot(index="unit", columns="year", values=variable)
            a = wide[last].dropna() if last in wide else pd.Series(dtype=float)
            b = wide[first].dropna() if first in wide else pd.Series(dtype=float)
            both = wide[[first, last]].dropna() if {first, last} <= set(wide.columns) else wide.iloc[:0]
            if len(both) == len(wide) and len(both) >= 2:
                diff = both[last] - both[first]
                sd = diff.std(ddof=1)
                t = diff.mean() / (sd / math.sqrt(len(diff))) if sd > 0 else float("nan")
                df = len(diff) - 1
                p = float(2 * stats.t.sf(abs(t), df)) if np.isfinite(t) else float("nan")
                test = "paired t"
            else:
                t, df, p = _two_sample(a.to_numpy(), b.to_numpy(), welch)
                test = f"{test_name} (unpaired: some treated units miss a year)"
            rows.append(_row(variable, last, f"treated {last} vs {first}", (f"treated {last}", f"treated {first}"),
                             a.to_numpy(), b.to_numpy(), float(t), float(df), p, test))
    return BalanceTable(rows=pd.DataFrame(rows, columns=BALANCE_COLUMNS), welch=welch, years=tuple(years),
                        variables=tuple(variables))
