"""Chapter runner ``sanming-budget``: the global-budget rules applied to a coalition's yearly spending.

``prepare`` reads the yearly table once (the book's illustrative county when no data are
given), checks it against the contract of :mod:`payreform.budget.data` and resolves every
setting: the columns found in the data, the unit of the amounts (read from the spending
column's name, or asked for), the year of the saving scenario. ``run`` applies Sanming's IMPM
rule and the last-year rule of other regions to the spending path, year by year, and works out
the whole account of a one-year saving under each: the change in later budgets (the ratchet),
in the retained balance and in the over-spending the coalition bears.

Examples
--------
>>> from payreform.chapters import sanming_budget
>>> result = sanming_budget.run(sanming_budget.prepare())
>>> result.settings["saving_year"], list(result.account["rule"])
(2019, ['Sanming IMPM', 'Other regions'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from payreform import budget, narrative, plots
from payreform.chapters.base import (
    COMMON_PARAMETERS,
    LANGUAGE_PARAMETER,
    RUNTIME_PARAMETERS,
    Chapter,
    Parameter,
    PreparedInput,
    check_language,
    load_frame,
    load_prepared,
    resolve,
)
from payreform.chapters.result import ChapterResult
from payreform.errors import ParameterError
from payreform.plots.budget import saving_account_figure
from payreform.synth import sanming

NAME = "sanming-budget"

CONTRACT = """\
One row per year, consecutive years, at least two.
- year_column (default `year`): 2015, 2015年 or an Excel date.
- spending_column (default `spending`): the coalition's insured spending, >= 0, in any unit; the
  unit is read from the column name (万元, 10k, million, 亿元, 元) or set with spending_unit
  (RMB per unit).
- population_column and premium_column (default: columns `population` and `premium` if present):
  persons (or 万人) and RMB per person, > 0; or budget_column: the population budget itself, in
  the spending unit, net of withholding; or the numbers population= and premium_per_person=.
- assessment_column (optional): 1 if the coalition passed the year's assessment, 0 if not.
CSV in UTF-8 (with or without BOM) or GBK, comma/semicolon/tab separated, Excel (.xlsx/.xls,
first sheet unless sheet=NAME) or Parquet."""

COUNTY = {"first_year": sanming.BUDGET_FIRST_YEAR, "years": sanming.BUDGET_YEARS,
          "first_year_spending": sanming.BUDGET_FIRST_YEAR_SPENDING,
          "spending_growth": sanming.BUDGET_SPENDING_GROWTH, "population": sanming.BUDGET_POPULATION,
          "premium_per_person": sanming.BUDGET_PREMIUM, "premium_growth": sanming.BUDGET_PREMIUM_GROWTH}
"""The book's illustrative county (see :func:`payreform.synth.sanming.budget_county`)."""
BOOK_ONLY = ("first_year", "years", "first_year_spending", "spending_growth", "premium_growth")
"""County settings that describe the book's county only (refused on a user's data)."""

PARAMETERS = (
    *COMMON_PARAMETERS,
    LANGUAGE_PARAMETER,
    Parameter("seed", "int", 0, "not used: the rules are deterministic (kept for the common interface)"),
    Parameter("output_dir", "str", "reports/sanming-budget", "folder for results.json, tables/ and figures/"),
    Parameter("year_column", "str", "year", "column holding the year of each row"),
    Parameter("spending_column", "str", "spending", "column holding the coalition's insured spending"),
    Parameter("population_column", "str", None, "column holding the population (persons)", optional=True,
              derived="the column `population` if the data have one"),
    Parameter("premium_column", "str", None, "column holding the per-capita premium (RMB per person)", optional=True,
              derived="the column `premium` if the data have one"),
    Parameter("budget_column", "str", None, "column holding the population budget (spending unit, net of "
              "withholding), instead of population and premium", optional=True),
    Parameter("assessment_column", "str", None, "column with 1 (assessment passed) or 0; none = passed every year",
              optional=True),
    Parameter("spending_unit", "float", None, "RMB per unit of the spending column (10000 for 万元)", optional=True,
              derived="the book's county: 1,000,000 (million RMB); your data: read from the spending column's name"),
    Parameter("population_unit", "float", None, "persons per unit of the population column (10000 for 万人)",
              optional=True, derived="read from the population column's name (万人: 10,000), else 1"),
    Parameter("first_year", "int", None, "the book's county: first year", optional=True,
              derived="the book's county"),
    Parameter("years", "int", None, "the book's county: number of years", optional=True, derived="the book's county"),
    Parameter("first_year_spending", "float", None, "the book's county: spending in the first year (million RMB)",
              optional=True, derived="the book's county"),
    Parameter("spending_growth", "float", None, "the book's county: yearly growth of spending", optional=True,
              derived="the book's county"),
    Parameter("population", "float", None, "population (persons) of every year, if the data have no column",
              optional=True, derived="the book's county"),
    Parameter("premium_per_person", "float", None, "per-capita premium (RMB) of every year, if the data have no "
              "column", optional=True, derived="the book's county"),
    Parameter("premium_growth", "float", None, "the book's county: yearly growth of the premium", optional=True,
              derived="the book's county"),
    Parameter("withheld_share", "float", 0.05, "share of the population budget the insurer withholds (private "
              "hospitals, risk adjustment; assumed)"),
    Parameter("staff_share", "float", budget.IMPM_STAFF_SHARE, "IMPM: share of a retained balance for staff "
              "performance pay (the paper's 16%)"),
    Parameter("other_budget_growth", "float", 0.06, "other regions: growth applied to last year's spending (assumed)"),
    Parameter("other_overspending_borne", "float", 0.5, "other regions: share of over-spending the coalition bears "
              "(assumed)"),
    Parameter("other_population_weight", "float", 0.5, "other regions: weight of the population budget beside last "
              "year's spending (assumed; 0 = last year's spending alone)"),
    Parameter("saving_year", "int", None, "the year in which the coalition saves (the ratchet scenario)",
              optional=True, derived="the second year of the data"),
    Parameter("saving", "float", 0.10, "share of that year's spending the coalition saves"),
    *RUNTIME_PARAMETERS,
)


@dataclass(frozen=True)
class BudgetPrepared(PreparedInput):
    """The validated yearly table and the resolved settings."""

    inputs: budget.BudgetData = field(default=None, repr=False)


def _check_shares(values: Mapping[str, Any]) -> None:
    for name in ("withheld_share", "staff_share", "other_overspending_borne", "other_population_weight"):
        value = values[name]
        if not 0.0 <= float(value) <= 1.0:
            raise ParameterError(f"parameter '{name}' is {value}; use a share between 0 and 1")
    if not 0.0 <= float(values["saving"]) < 1.0:
        raise ParameterError(f"parameter 'saving' is {values['saving']}; use a share of spending from 0 to below 1, "
                             "for example 0.1")
    if not float(values["other_budget_growth"]) > -1:
        raise ParameterError(f"parameter 'other_budget_growth' is {values['other_budget_growth']}; it must exceed -1")
    for name in ("spending_unit", "population_unit"):
        if values[name] is not None and not float(values[name]) > 0:
            raise ParameterError(f"parameter '{name}' is {values[name]}; use a number > 0, for example 10000 for 万")


def prepare(data: Any = None, parameters: Mapping[str, Any] | None = None) -> BudgetPrepared:
    """Read, hash and check the yearly table once and resolve every setting (see the module docstring).

    Parameters
    ----------
    data
        None (the book's illustrative county), a file path (CSV, Excel or Parquet) or a DataFrame.
    parameters
        Values of :data:`PARAMETERS`; a notebook passes ``CHAPTER.collect(globals())``.

    Raises
    ------
    ContractError, ParameterError
        One line naming the column, row or parameter at fault.
    """
    given = dict(parameters or {})
    if given.get("prepared_input"):
        return load_prepared(given["prepared_input"], NAME)
    CHAPTER.check_names(given)
    values = CHAPTER.defaults() | given
    check_language(values["language"])
    _check_shares(values)
    data = values["data"] if data is None else data
    derived: dict[str, Any] = {}
    if data is None:
        county = {k: (COUNTY[k] if values[k] is None else values[k]) for k in COUNTY}
        derived |= {k: v for k, v in county.items() if values[k] is None}
        frame, info = load_frame(None, None, lambda: sanming.budget_county(**county),
                                 {"study": "sanming-budget", "seed": values["seed"]})
    else:
        set_here = [k for k in BOOK_ONLY if values[k] is not None]
        if set_here:
            raise ParameterError(f"parameter '{set_here[0]}' describes the book's illustrative county; with your data "
                                 "the years and amounts come from the file: drop it")
        frame, info = load_frame(data, values["sheet"], lambda: None, {})
    book = info["source"] == "synthetic"
    columns = {str(c) for c in frame.columns}
    for parameter, default in (("population_column", "population"), ("premium_column", "premium")):
        if values[parameter] is None:
            derived[parameter] = default if default in columns else None
    resolved = values | derived
    if values["spending_unit"] is None:
        derived["spending_unit"] = sanming.BUDGET_SPENDING_UNIT if book else \
            budget.unit_from_name(resolved["spending_column"])
    if values["population_unit"] is None and resolved["population_column"] is not None:
        derived["population_unit"] = budget.persons_from_name(resolved["population_column"])
    if values["budget_column"] is not None and values["withheld_share"] == CHAPTER.parameter("withheld_share").default \
            and "withheld_share" not in given:
        derived["withheld_share"] = 0.0  # a budget column is already net of withholding
    resolved = values | derived
    has_population = resolved["population_column"] is not None or resolved["population"] is not None
    if not has_population and resolved["budget_column"] is None:
        raise ParameterError(
            "the IMPM budget needs the population and per-capita premium of each year: add columns and set "
            "population_column=<name> and premium_column=<name>, or give the budget itself with budget_column=<name>, "
            "or set population=<persons> and premium_per_person=<RMB>")
    inputs = budget.validate_budget_data(
        frame, year_column=resolved["year_column"], spending_column=resolved["spending_column"],
        population_column=resolved["population_column"], premium_column=resolved["premium_column"],
        budget_column=resolved["budget_column"], assessment_column=resolved["assessment_column"],
        spending_unit=resolved["spending_unit"], persons_per_unit=float(resolved.get("population_unit") or 1.0),
        population=resolved["population"] if resolved["population_column"] is None else None,
        premium=resolved["premium_per_person"] if resolved["premium_column"] is None else None)
    if values["saving_year"] is None:
        derived["saving_year"] = inputs.years[1]
    saving_year = values["saving_year"] or derived["saving_year"]
    if saving_year not in inputs.years[:-1]:
        raise ParameterError(f"parameter 'saving_year' is {saving_year}; use a year from {inputs.years[0]} to "
                             f"{inputs.years[-2]} (the data run to {inputs.years[-1]}, and the ratchet needs a year "
                             "after the saving)")
    return BudgetPrepared(chapter=NAME, settings=resolve(PARAMETERS, values, derived), data=info, inputs=inputs)


# ----------------------------------------------------------------------------- run


def rules(settings) -> tuple[budget.BudgetRule, budget.BudgetRule]:
    """The two rules with this run's settings: IMPM and the rule of other regions."""
    impm = budget.impm_rule(withheld_share=float(settings["withheld_share"]),
                            staff_share_of_balance=float(settings["staff_share"]))
    other = budget.last_year_rule(budget_growth=float(settings["other_budget_growth"]),
                                  overspending_borne_by_coalition=float(settings["other_overspending_borne"]),
                                  population_weight=float(settings["other_population_weight"]),
                                  withheld_share=float(settings["withheld_share"]))
    return impm, other


def run(prepared: BudgetPrepared) -> BudgetResult:
    """Apply both rules to the spending path and work out the saving scenario (see the module docstring)."""
    s, inputs = prepared.settings, prepared.inputs
    impm, other = rules(s)
    population_budgets = inputs.population_budget * (1.0 - float(s["withheld_share"]))
    common = {"years": list(inputs.years), "population_budgets": population_budgets,
              "assessment_passed": inputs.assessment_passed}
    simulations = [budget.simulate_budget(inputs.spending, rule, **common) for rule in (impm, other)]
    for simulation in simulations:
        simulation.check()
    accounts = pd.concat([sim.table() for sim in simulations], ignore_index=True)
    ratchets = pd.concat([budget.ratchet(rule, spending=inputs.spending, saving_year=int(s["saving_year"]),
                                         saving=float(s["saving"]), **common) for rule in (impm, other)],
                         ignore_index=True)
    account = budget.saving_account(ratchets, int(s["saving_year"]))
    return BudgetResult(prepared=prepared, accounts=accounts, ratchets=ratchets, account=account,
                        rule_names=(impm.name, other.name))


# ----------------------------------------------------------------------------- the result

RULE_KEYS = {"Sanming IMPM": "impm", "Other regions": "other"}


@dataclass(frozen=True, eq=False)
class BudgetResult(ChapterResult):
    """The accounts of both rules, the saving scenario and its whole account (see :func:`run`)."""

    accounts: pd.DataFrame = field(default_factory=pd.DataFrame)
    ratchets: pd.DataFrame = field(default_factory=pd.DataFrame)
    account: pd.DataFrame = field(default_factory=pd.DataFrame)
    rule_names: tuple[str, str] = ("Sanming IMPM", "Other regions")

    chapter = NAME

    @property
    def inputs(self) -> budget.BudgetData:
        """The validated yearly table."""
        return self.prepared.inputs

    @property
    def unit(self) -> str:
        """The unit of every amount (the spending column's)."""
        return budget.unit_name(self.settings["spending_unit"])

    def money(self, value: float) -> str:
        """An amount for prose, with its unit."""
        digits = 1 if abs(value) >= 10 else 2
        return f"{narrative.fmt(value, digits)} {self.unit}" if self.settings["spending_unit"] is not None else \
            narrative.fmt(value, digits)

    def rule_account(self, rule: str) -> pd.Series:
        """The whole account of the saving under one rule (``impm`` or ``other``)."""
        name = self.rule_names[0] if rule == "impm" else self.rule_names[1]
        return self.account.set_index("rule").loc[name]

    # ------------------------------------------------------------------ results

    def estimates(self) -> pd.DataFrame:
        """Every amount of the accounts (model = rule, outcome = amount, term = year), then the saving account.

        These are accounting results, not estimates: standard errors and intervals are empty.
        """
        long = self.accounts.melt(id_vars=["rule", "year"], value_vars=list(budget.ACCOUNT_COLUMNS),
                                  var_name="outcome", value_name="estimate")
        long = long.assign(model=long["rule"].map(RULE_KEYS), term=long["year"].astype(str))
        saving = self.account.melt(id_vars=["rule"], var_name="term", value_name="estimate")
        saving = saving.assign(model=saving["rule"].map(RULE_KEYS), outcome="saving_account")
        frame = pd.concat([long, saving], ignore_index=True)
        for column in ("std_error", "p_value", "ci_low", "ci_high", "n_obs"):
            frame[column] = np.nan
        return frame[["model", "outcome", "term", "estimate", "std_error", "p_value", "ci_low", "ci_high", "n_obs"]]

    def diagnostics(self) -> dict:
        """The ``diagnostics`` block of ``results.json``."""
        return {"years": list(self.inputs.years), "unit": self.unit, "spending_unit": self.settings["spending_unit"],
                "settings": {k: v for k, v in self.settings.values().items() if k not in ("data", "prepared_input")},
                "inputs": self.inputs.table().to_dict(orient="records"),
                "accounts": self.accounts.to_dict(orient="records"),
                "ratchet": self.ratchets.to_dict(orient="records"),
                "saving_account": self.account.to_dict(orient="records"),
                "not_modelled": ["recovery of the balance by the insurer (other regions)"]}

    def tables(self) -> dict[str, pd.DataFrame]:
        """Inputs, accounts, ratchet, the saving's whole account and the settings."""
        return {"estimates": self.estimates(), "inputs": self.inputs.table(), "accounts": self.accounts,
                "ratchet": self.ratchets, "saving_account": self.account, "settings": self.settings_table()}

    def accounts_shown(self) -> pd.DataFrame:
        """The accounts for reading: one row per rule and year, amounts rounded."""
        columns = ["rule", "year", "budget", "spending", "balance", "overspending", "insurer_pays", "coalition_bears",
                   "staff_pay", "other_uses"]
        return self.accounts[columns]

    def account_shown(self) -> pd.DataFrame:
        """The whole account of the saving, one column per rule."""
        labels = {"saving": "spending saved", "budget_change_later": "change in later budgets",
                  "retained_balance_change": "change in retained balance",
                  "coalition_bears_change": "change in over-spending borne by the coalition",
                  "staff_pay_change": "change in staff pay", "insurer_pays_change": "change in what the insurer pays",
                  "net_change": "net gain of the coalition (balance − over-spending borne)"}
        return self.account.set_index("rule").T.rename(index=labels)

    # ------------------------------------------------------------------ text

    def rule_sentence(self, name: str) -> str:
        """Balances and over-spending of one rule over the years, chosen by the numbers."""
        part = self.accounts[self.accounts["rule"] == name]
        n = len(part)
        kept = part[part["retained_balance"] > 0]
        over = part[part["overspending"] > 0]
        returned = part[part["returned_to_fund"] > 0]
        pieces = []
        if kept.empty:
            pieces.append("kept no balance")
        else:
            staff = f", {self.money(kept['staff_pay'].sum())} of it as staff pay" if kept["staff_pay"].sum() > 0 else ""
            pieces.append(f"kept a balance in {len(kept)} of {n} years ({self.money(kept['retained_balance'].sum())} "
                          f"in all{staff})")
        if over.empty:
            pieces.append("never over-spent")
        else:
            pieces.append(f"over-spent in {len(over)} of {n} years ({self.money(over['overspending'].sum())} in all, "
                          f"{self.money(over['coalition_bears'].sum())} of it borne by the coalition)")
        if not returned.empty:
            pieces.append(f"returned {self.money(returned['returned_to_fund'].sum())} of balances to the fund after "
                          "failed assessments")
        return "the coalition " + narrative.join(pieces)

    def saving_sentence(self) -> str:
        """The whole account of the saving under each rule, and which rule rewards it more."""
        s = self.settings
        impm, other = self.rule_account("impm"), self.rule_account("other")
        year = int(s["saving_year"])
        later = ("later budgets would not change" if abs(impm["budget_change_later"]) < 1e-9 * max(1.0, impm["saving"])
                 else f"later budgets would change by {self.money(impm['budget_change_later'])}")
        text = (f"If the coalition saved {narrative.fmt(100 * float(s['saving']), 0)}% of its spending in {year} "
                f"({self.money(impm['saving'])}), under IMPM {later} and its net position would change by "
                f"{self.money(impm['net_change'])}")
        if impm["staff_pay_change"]:
            text += f" ({self.money(impm['staff_pay_change'])} more staff pay)"
        text += (f". Under the rule of other regions the budgets after {year} would change by "
                 f"{self.money(other['budget_change_later'])} (the ratchet), the retained balance by "
                 f"{self.money(other['retained_balance_change'])} and the over-spending the coalition bears by "
                 f"{self.money(other['coalition_bears_change'])}: net "
                 f"{self.money(other['net_change'])}")
        verdict = narrative.direction(other["net_change"], ", so saving still pays, though the ratchet takes "
                                      "part of it" if other["budget_change_later"] < 0 else ", so saving pays",
                                      ", so saving costs the coalition money", ", so saving neither pays nor costs")
        text += verdict + "."
        difference = impm["net_change"] - other["net_change"]
        text += " " + narrative.direction(
            difference, f"Saving is worth {self.money(difference)} more to the coalition under IMPM.",
            f"Saving is worth {self.money(-difference)} more to the coalition under the rule of other regions.",
            "Saving is worth the same under both rules.")
        return text

    def summary(self) -> str:
        """What was computed, in sentences generated from the numbers."""
        s, inputs = self.settings, self.inputs
        source = "the budget column" if inputs.budget_given else "population × per-capita premium"
        lines = [
            f"The data give the coalition's insured spending for {len(inputs.years)} years, {inputs.years[0]} to "
            f"{inputs.years[-1]}, in {self.unit}. Two budget rules were applied to it, year by year.",
            f"Under Sanming's IMPM rule the budget is {source}"
            + (f" less the withheld share ({narrative.fmt(100 * float(s['withheld_share']), 0)}%)"
               if float(s["withheld_share"]) and not inputs.budget_given else "")
            + f", over-spending is borne by the coalition and {narrative.fmt(100 * float(s['staff_share']), 0)}% of a "
            f"retained balance may go to staff pay: {self.rule_sentence(self.rule_names[0])}.",
            f"Under the rule of other regions the budget mixes the population budget "
            f"({narrative.fmt(100 * float(s['other_population_weight']), 0)}%) with last year's spending grown by "
            f"{narrative.fmt(100 * float(s['other_budget_growth']), 1)}%, and the coalition bears "
            f"{narrative.fmt(100 * float(s['other_overspending_borne']), 0)}% of any over-spending: "
            f"{self.rule_sentence(self.rule_names[1])}.",
            self.saving_sentence(),
            "These are accounting rules applied to the spending path, not estimates of behaviour: the path is taken as "
            "given, and the recovery of balances by the insurer that some regions practise is not modelled.",
        ]
        return "\n\n".join(lines)

    def warnings(self) -> list[str]:
        """Units that look wrong, failed assessments, assumed shares."""
        out = []
        inputs = self.inputs
        ratio = inputs.population_budget / np.where(inputs.spending > 0, inputs.spending, np.nan)
        if np.nanmedian(ratio) < 0.5 or np.nanmedian(ratio) > 2:
            out.append(f"The population budget is {narrative.fmt(float(np.nanmedian(ratio)), 2)} times spending in a "
                       "median year: check the units (spending_unit, the population in persons, the premium in RMB "
                       "per person).")
        failed = [y for y, ok in zip(inputs.years, inputs.assessment_passed, strict=True) if not ok]
        if failed:
            out.append(f"The coalition failed the assessment in {narrative.join([str(y) for y in failed])}: its "
                       "balance returns to the fund in those years.")
        assumed = [name for name in ("withheld_share", "other_budget_growth", "other_overspending_borne",
                                     "other_population_weight") if self.settings.source(name) == "default"]
        if assumed:
            out.append(f"{narrative.join(assumed)} are the handbook's assumptions, not published or local values: set "
                       "them to your region's rules.")
        return out

    def glue_values(self) -> dict[str, Any]:
        """Values the book page glues (prefix ``budget_``)."""
        impm, other = self.rule_account("impm"), self.rule_account("other")
        values: dict[str, Any] = {"budget_unit": self.unit, "budget_saving": float(impm["saving"]),
                                  "budget_saving_year": int(self.settings["saving_year"]),
                                  "budget_saving_pct": float(100 * float(self.settings["saving"]))}
        for key, row in (("impm", impm), ("other", other)):
            for column in ("budget_change_later", "retained_balance_change", "coalition_bears_change",
                           "staff_pay_change", "net_change"):
                values[f"budget_{key}_{column}"] = float(row[column])
        values["budget_ratchet_loss"] = float(-other["budget_change_later"])
        values["budget_staff_gain"] = float(impm["staff_pay_change"])
        first = self.ratchets[(self.ratchets["rule"] == self.rule_names[1])
                              & (self.ratchets["year"] == int(self.settings["saving_year"]) + 1)]
        values["budget_ratchet_next_year"] = float(-first["budget_change"].iloc[0])
        for key, name in (("impm", self.rule_names[0]), ("other", self.rule_names[1])):
            part = self.accounts[self.accounts["rule"] == name]
            values[f"budget_{key}_years_over"] = int((part["overspending"] > 0).sum())
            values[f"budget_{key}_retained_total"] = float(part["retained_balance"].sum())
        return values

    # ------------------------------------------------------------------ figures

    def figure_names(self) -> tuple[str, ...]:
        """budget_rules, ratchet and saving_account."""
        return ("budget_rules", "ratchet", "saving_account")

    def figure(self, name: str) -> Figure:
        """Draw the named figure (see :meth:`figure_names`)."""
        if name == "budget_rules":
            return plots.budget_figure(self.accounts, unit=self.unit)
        if name == "ratchet":
            return plots.ratchet_figure(self.ratchets, saving_year=int(self.settings["saving_year"]), unit=self.unit)
        if name == "saving_account":
            return saving_account_figure(self.account, unit=self.unit)
        raise KeyError(f"no figure '{name}'; available: {', '.join(self.figure_names())}")


def lasting_saving(result: BudgetResult, share: float | None = None) -> pd.DataFrame:
    """The whole account of a saving that lasts: spending lower by ``share`` from the saving year on.

    One row per rule: the total spending saved, the change in later budgets and the net gain
    (retained balance minus over-spending borne), summed over the years.
    """
    share = float(result.settings["saving"]) if share is None else float(share)
    inputs, s = result.inputs, result.settings
    lower = inputs.spending.copy()
    lower[inputs.years.index(int(s["saving_year"])):] *= 1.0 - share
    common = {"years": list(inputs.years), "assessment_passed": inputs.assessment_passed,
              "population_budgets": inputs.population_budget * (1.0 - float(s["withheld_share"]))}
    rows = []
    for rule in rules(s):
        base = budget.simulate_budget(inputs.spending, rule, **common).accounts
        saved = budget.simulate_budget(lower, rule, **common).accounts
        later = base["year"] > int(s["saving_year"])
        rows.append({"rule": rule.name, "saving": float((base["spending"] - saved["spending"]).sum()),
                     "budget_change_later": float((saved["budget"] - base["budget"])[later].sum()),
                     "net_change": float(((saved["retained_balance"] - saved["coalition_bears"])
                                          - (base["retained_balance"] - base["coalition_bears"])).sum())})
    return pd.DataFrame(rows)


def lasting_text(result: BudgetResult, lasting: pd.DataFrame) -> str:
    """One-year against lasting saving: how much of each is kept by the coalition, chosen by the numbers."""
    parts = []
    for row in lasting.itertuples():
        one = result.account.set_index("rule").loc[row.rule]
        kept_once = one["net_change"] / one["saving"] if one["saving"] else float("nan")
        kept_lasting = row.net_change / row.saving if row.saving else float("nan")
        parts.append(f"under {row.rule} the coalition keeps {narrative.fmt(100 * kept_once, 0)}% of a one-year saving "
                     f"and {narrative.fmt(100 * kept_lasting, 0)}% of a lasting one")
    return ("Of every yuan saved, " + "; ".join(parts) + ". A lasting saving lowers every later budget under a rule "
            "that follows last year's spending, so the later years' savings pay for the lower budgets.")


CHAPTER = Chapter(
    name=NAME,
    title="Sanming: the global-budget (IMPM) rules applied to a coalition's spending",
    notebook="sanming_budget.py",
    study="sanming",
    contract=CONTRACT,
    parameters=PARAMETERS,
    prepare=prepare,
    run=run,
    report_title="Global-budget rules applied to yearly spending",
)
