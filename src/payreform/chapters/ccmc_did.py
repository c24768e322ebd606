"""Chapter runner ``ccmc-did``: bundled payment and the event-study difference-in-differences.

``prepare`` reads the panel once, checks it against the data contract, derives every setting
whose default is a study's value (base year, reference year, HonestDiD term, outcomes, controls)
from the data, and fits the event study of every outcome, so that any error a user can cause
(a missing column, a reference year not in the data, a control collinear with the year effects)
stops here in one line. ``run`` adds everything else: the balance table, the joint pre-trend
tests, HonestDiD for every outcome (with the adoption year and the year before it as references),
the staggered-adoption comparison, and on the book's data the planted truth and the paper.

Examples
--------
>>> from payreform.chapters import ccmc_did
>>> prepared = ccmc_did.prepare(parameters={"outcomes": ["patient_satisfaction"]})
>>> prepared.settings["did_base"] == ccmc_did.ccmc.DID_BASE, prepared.settings.source("did_base")
(True, 'from the data')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from payreform import did, narrative, report
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
from payreform.chapters.ccmc_support import (
    BookComparison,
    _book_comparison,
    _check_outcomes_vary,
    _default_outcomes,
    _honest_note,
    _parse_bounds,
    _years_text,
    paper_significance,
)
from payreform.chapters.result import ChapterResult
from payreform.contracts import PanelData, validate_panel
from payreform.errors import ParameterError, PayreformError
from payreform.plots import did as did_plots
from payreform.synth import ccmc

NAME = "ccmc-did"

CONTRACT = """\
One row per unit (county) and year, no unit-year twice; an unbalanced panel is allowed (and
reported).
- unit_column (default `county_id`), time_column (default `year`, whole years).
- treated_column: 0/1, the same in every year of a unit, with treated and control units; then
  did_base (the adoption year) must be set for your data. Or first_treated_column: the adoption
  year (empty or 0 = never treated), constant within a unit; one adoption year gives did_base,
  several give the event-time (staggered) design.
- outcomes and controls: numeric and changing within some unit; a control must not be a
  combination of the year effects.
- at least one year before and one after the reference year.
- cluster_column (optional, default the unit): must group whole units.
CSV in UTF-8 (with or without BOM) or GBK, comma/semicolon/tab separated, Excel (.xlsx/.xls,
first sheet unless sheet=NAME) or Parquet."""

PARAMETERS = (
    *COMMON_PARAMETERS,
    LANGUAGE_PARAMETER,
    Parameter("seed", "int", ccmc.DEFAULT_SEED, "seed of the synthetic data"),
    Parameter("output_dir", "str", "reports/ccmc-did", "folder for results.json, tables/ and figures/"),
    Parameter("unit_column", "str", ccmc.UNIT, "column identifying the unit (county)"),
    Parameter("time_column", "str", ccmc.TIME, "column holding the year"),
    Parameter("treated_column", "str", ccmc.TREATED, "0/1 treatment-group column (ignored when "
              "first_treated_column is given)", optional=True),
    Parameter("first_treated_column", "str", None, "adoption-year column (empty or 0 = never treated); "
              "several adoption years give the staggered, event-time design", optional=True),
    Parameter("outcomes", "list", None, "outcome columns (comma-separated)", optional=True,
              derived="every other numeric column that changes within some unit"),
    Parameter("controls", "list", None, "time-varying control columns", optional=True,
              derived="the book's data: its five county controls; your data: none unless named"),
    Parameter("year_base", "int", None, "year whose year dummy is omitted", optional=True,
              derived="the first year in the data"),
    Parameter("did_base", "int", None, "reference year of the treated x year terms (the adoption year)",
              optional=True, derived="the adoption year: from first_treated_column when it holds one year, "
              "the study's on the book's data; required with a 0/1 treated_column on your data"),
    Parameter("cluster_column", "str", None, "cluster column for standard errors; none = the unit", optional=True),
    Parameter("honest_term", "str", None, "post-period term for the HonestDiD sensitivity analysis "
              "(or average)", optional=True, derived="the first post-period term"),
    Parameter("mbar", "list", ["0", "0.5", "1", "1.5", "2"], "relative-magnitude bounds for HonestDiD"),
    *RUNTIME_PARAMETERS,
)

FEW_CLUSTERS = 30
"""Below this many clusters the clustered standard errors are themselves imprecise (warning)."""


# ============================================================================ prepare


@dataclass(frozen=True)
class CCMCPrepared(PreparedInput):
    """The panel as read, its validated form, the derived design and the fitted event studies."""

    frame: pd.DataFrame = field(default=None, repr=False)
    panel: PanelData = field(default=None, repr=False)
    design: did.DesignDefaults = None
    fits: dict = field(default_factory=dict, repr=False)
    mbar: tuple[float, ...] = ()
    honest_notes: dict = field(default_factory=dict)
    """Outcome -> why HonestDiD cannot run on it (absent when it can)."""
    dropped_outcomes: dict = field(default_factory=dict)
    """Numeric columns left out of the default outcomes, and why."""

    @property
    def keys(self) -> dict[str, Any]:
        """Column keyword arguments of :func:`payreform.did.event_study` for this panel."""
        p = self.panel
        return {"unit": p.unit, "time": p.time, "treated": p.treated, "first_treated": p.first_treated,
                "controls": list(p.controls), "cluster": None if p.cluster == p.unit else p.cluster}

    @property
    def outcomes(self) -> tuple[str, ...]:
        """The outcome columns analysed."""
        return self.panel.outcomes


def prepare(data: Any = None, parameters: Mapping[str, Any] | None = None) -> CCMCPrepared:
    """Read, hash and check the panel once, derive the settings and fit the event studies.

    Parameters
    ----------
    data
        None (the book's synthetic 528-county panel), a file path (CSV, Excel or Parquet) or a
        DataFrame.
    parameters
        Values of :data:`PARAMETERS` (missing ones take their defaults); a notebook passes
        ``CHAPTER.collect(globals())``.

    Raises
    ------
    ContractError, ParameterError
        One line naming the column, row or parameter at fault and what to do.
    """
    given = dict(parameters or {})
    if given.get("prepared_input"):
        return load_prepared(given["prepared_input"], NAME)
    CHAPTER.check_names(given)
    values = CHAPTER.defaults() | given
    check_language(values["language"])
    data = values["data"] if data is None else data
    seed = values["seed"]
    frame, info = load_frame(data, values["sheet"], lambda: ccmc.generate(seed=seed), {"study": "ccmc", "seed": seed})
    book = info["source"] == "synthetic"
    derived: dict[str, Any] = {}

    unit, time = values["unit_column"], values["time_column"]
    first_treated = values["first_treated_column"]
    treated = None if first_treated is not None else values["treated_column"]
    if treated is None and first_treated is None:
        raise ParameterError("set treated_column (a 0/1 column) or first_treated_column (the adoption year)")
    controls = values["controls"]
    if controls is None:
        controls = list(ccmc.CONTROLS) if book else []
        if book:
            derived["controls"] = controls
    outcomes = values["outcomes"]
    if outcomes is None:
        skip = {unit, time, values["treated_column"], first_treated, values["cluster_column"], *controls}
        if unit in frame.columns:
            outcomes = _default_outcomes(frame, skip, unit)
            if not outcomes and time in frame.columns:
                raise ParameterError("no numeric column that changes within a unit is left for outcomes; "
                                     "name them with outcomes=col1,col2")
            derived["outcomes"] = outcomes
        else:
            outcomes = [c for c in frame.columns if c not in skip][:1] or ["(none)"]
    panel = validate_panel(frame, unit=unit, time=time, outcomes=outcomes, treated=treated,
                           first_treated=first_treated, controls=controls, year_base=values["year_base"],
                           did_base=values["did_base"], cluster=values["cluster_column"])
    _check_outcomes_vary(panel)
    years = panel.years
    year_base = values["year_base"]
    if year_base is None:
        year_base = derived["year_base"] = years[0]

    design = did.design_defaults(panel)
    did_base = values["did_base"]
    if design.staggered:
        if did_base is not None:
            raise ParameterError(
                f"parameter 'did_base' does not apply: column '{first_treated}' holds several adoption years "
                f"({_years_text(did.adoption_years_in(panel))}), so the model is in event time with the year "
                "before adoption as reference; drop did_base"
            )
    else:
        if did_base is None:
            if design.adoption_year is not None:
                did_base = design.adoption_year
            elif book and treated is not None:
                did_base = ccmc.DID_BASE
            else:
                raise ParameterError(
                    f"parameter 'did_base' is needed: column '{treated}' says which units were treated but "
                    f"not from which year; set did_base to the adoption year, one of {_years_text(years)}"
                )
            derived["did_base"] = did_base
        if not years[0] < did_base < years[-1]:
            raise ParameterError(
                f"did_base {did_base} leaves no year before or after it in column '{time}' "
                f"({years[0]}-{years[-1]}); set did_base to one of {_years_text(years[1:-1])}"
            )
        design = did.design_defaults(panel, did_base=did_base)

    honest_term = values["honest_term"]
    if honest_term is None:
        if design.first_post_term is None:
            raise ParameterError("the data have no period after the reference; HonestDiD needs honest_term")
        honest_term = derived["honest_term"] = design.first_post_term
    mbar = _parse_bounds(values["mbar"])

    keys = {"unit": unit, "time": time, "treated": treated, "first_treated": first_treated,
            "controls": list(controls), "cluster": values["cluster_column"]}
    fits = {o: did.event_study(frame, outcome=o, **keys, year_base=year_base,
                               did_base=None if design.staggered else did_base)
            for o in panel.outcomes}
    dropped = {}
    for outcome, fit in list(fits.items()):
        if fit.r_squared_within > 1 - 1e-9:  # e.g. years of experience: the year effects are the outcome
            if "outcomes" not in derived:
                raise ParameterError(
                    f"outcome '{outcome}' is fitted exactly by the year and unit effects (it changes by the "
                    "same amount in every unit), so there is nothing to estimate; drop it from outcomes"
                )
            dropped[outcome] = "fitted exactly by the year and unit effects"
            del fits[outcome]
    if dropped:
        if not fits:
            raise ParameterError("every numeric column is fitted exactly by the year and unit effects; name the "
                                 "outcomes with outcomes=col1,col2")
        derived["outcomes"] = list(fits)
        panel = dataclasses.replace(panel, outcomes=tuple(fits))
    settings = resolve(PARAMETERS, values, derived)
    notes = {}
    for outcome, fit in fits.items():
        note = _honest_note(fit, honest_term)
        if note is not None:
            notes[outcome] = note
    return CCMCPrepared(chapter=NAME, settings=settings, data=info, frame=frame, panel=panel, design=design,
                        fits=fits, mbar=mbar, honest_notes=notes, dropped_outcomes=dropped)


# ============================================================================ the analysis


def _sensitivity(prepared: CCMCPrepared, outcome: str) -> did.SensitivityAnalysis:
    target = prepared.settings["honest_term"]
    if outcome in prepared.honest_notes:
        return did.SensitivityAnalysis(outcome, target, note=prepared.honest_notes[outcome])
    fit, previous_fit = prepared.fits[outcome], None
    before = prepared.design.did_base - 1 if prepared.design.did_base is not None else None
    if before is not None and before in fit.years and before > fit.years[0] and target != "average":
        previous_fit = did.event_study(prepared.frame, outcome=outcome, **prepared.keys, year_base=fit.year_base,
                                       did_base=before)
    try:
        return did.sensitivity_analysis(fit, post_term=target, mbar=prepared.mbar, previous_fit=previous_fit)
    except ParameterError as error:  # e.g. estimates without sampling variance: reported, not fatal
        return did.SensitivityAnalysis(outcome, target, note=str(error))


def _staggered(prepared: CCMCPrepared) -> did.StaggeredComparison | None:
    if prepared.design.staggered:
        return did.staggered_comparison(prepared.frame, outcomes=list(prepared.outcomes), twfe=prepared.fits,
                                        **{k: prepared.keys[k] for k in ("unit", "time", "first_treated")})
    if not prepared.book_data:
        return None
    seed = prepared.settings["seed"]
    frame = ccmc.generate(seed=seed, staggered=True)
    return did.staggered_comparison(frame, outcomes=list(ccmc.OUTCOMES), unit=ccmc.UNIT, time=ccmc.TIME,
                                    first_treated=ccmc.FIRST_TREATED, truth=ccmc.truth(staggered=True),
                                    noise_free=ccmc.generate(seed=seed, staggered=True, noise_scale=0.0),
                                    shown=ccmc.STAGGERED_OUTCOME, source="synthetic staggered panel")


# ============================================================================ the result


@dataclass(frozen=True, eq=False)
class CCMCResult(ChapterResult):
    """Everything the CCMC chapter computes (see :func:`run`)."""

    balance: did.BalanceTable | None = None
    pretrends: dict = field(default_factory=dict, repr=False)
    previous_pretrends: dict = field(default_factory=dict, repr=False)
    """The same tests with the year before adoption as reference (common adoption only)."""
    sensitivity: dict = field(default_factory=dict, repr=False)
    staggered: did.StaggeredComparison | None = None
    book: BookComparison | None = None

    chapter = NAME

    # ------------------------------------------------------------------ the panel

    @property
    def fits(self) -> dict[str, did.EventStudyResult]:
        """Outcome -> fitted event study."""
        return self.prepared.fits

    @property
    def design(self) -> did.DesignDefaults:
        """Base year, reference, adoption year and balance years of this run."""
        return self.prepared.design

    @property
    def labels(self) -> dict[str, str]:
        """Readable variable names (the study's labels on the book's data, column names otherwise)."""
        if self.book_data:
            return dict(ccmc.OUTCOME_LABELS) | dict(ccmc.CONTROL_LABELS)
        return {name: name for name in (*self.prepared.outcomes, *self.prepared.panel.controls)}

    def label(self, outcome: str) -> str:
        """Readable name of one variable."""
        return self.labels.get(outcome, outcome)

    @property
    def reference_label(self) -> str:
        """'the reference year 2020' or 'event time -1 (the year before adoption)'."""
        if self.design.staggered:
            return "event time −1 (the year before adoption)"
        return f"the reference year {self.design.did_base}"

    def panel_summary(self) -> pd.DataFrame:
        """One row: units, treated and control units, years, rows, clusters, balance."""
        fits = list(self.fits.values())
        first = fits[0]
        panel = self.prepared.panel
        return pd.DataFrame([{
            "units": panel.n_units, "treated units": first.n_treated_units, "control units": first.n_control_units,
            "years": f"{panel.years[0]}-{panel.years[-1]}", "rows": len(panel.frame),
            "clusters": first.n_clusters, "balanced": "yes" if panel.balanced else "no",
            "design": "event time (staggered adoption)" if self.design.staggered else "one adoption year",
        }])

    def model_formula(self) -> str:
        """The model in LaTeX with the bases this run used."""
        controls = " + X_{it}'\\theta" if self.prepared.panel.controls else ""
        year_part = f"\\sum_{{t \\ne {self.settings['year_base']}}} \\text{{year}}_t"
        if self.design.staggered:
            return (f"Y_{{it}} = {year_part} + \\sum_{{k \\ne -1}} \\text{{event}}_k\\,"
                    f"\\mathbb{{1}}[t - g_i = k]{controls} + \\mu_i + \\varepsilon_{{it}}")
        return (f"Y_{{it}} = a + {year_part} + \\sum_{{t \\ne {self.design.did_base}}} \\text{{did}}_t\\,"
                f"(\\text{{treat}}_i \\times \\text{{year}}_t){controls} + \\mu_i + \\varepsilon_{{it}}")

    # ------------------------------------------------------------------ tables

    def estimates(self) -> pd.DataFrame:
        """Event-study terms of every outcome (and, where run, the previous-year reference and the
        staggered comparison), one row per term, with a readable ``label``."""
        parts = []
        for outcome, fit in self.fits.items():
            parts.append(fit.table().assign(model="event_study_twfe", outcome=outcome, n_obs=fit.n_obs))
        for outcome, sens in self.sensitivity.items():
            if sens.previous_fit is not None:
                fit = sens.previous_fit
                parts.append(fit.table().assign(model="event_study_twfe_previous_year_reference", outcome=outcome,
                                                n_obs=fit.n_obs))
        staggered = self.staggered
        if staggered is not None:
            for outcome, cs in staggered.cs.items():
                table = cs.aggregate("dynamic")
                parts.append(table.drop(columns=["event_time", "statistic"]).assign(
                    model="callaway_santanna_never_treated", outcome=outcome, n_obs=cs.n_units * len(
                        staggered.twfe[outcome].years)))
                if staggered.source != "data":
                    fit = staggered.twfe[outcome]
                    parts.append(fit.table().assign(model="staggered_twfe", outcome=outcome, n_obs=fit.n_obs))
        out = pd.concat(parts, ignore_index=True)
        out["label"] = [did.term_label(t) for t in out["term"]]
        columns = ["model", "outcome", "term", "label", "estimate", "std_error", "p_value", "ci_low", "ci_high",
                   "n_obs"]
        return out[columns]

    def event_study_table(self, outcome: str) -> pd.DataFrame:
        """One outcome's year and interaction terms for reading (truth and paper on the book's data)."""
        fit = self.fits[outcome]
        terms = [t for t in fit.params.index if t not in fit.controls]
        if self.book is not None:
            rows = self.book.comparison
            rows = rows[(rows["outcome"] == outcome) & rows["term"].isin(terms)]
        else:
            rows = fit.table().assign(outcome=outcome)
            rows = rows[rows["term"].isin(terms)]
        shown = report.compact_comparison(rows.drop(columns=["paper"], errors="ignore"),
                                          {t: f"{did.term_label(t)} ({t})" for t in terms}, digits=3)
        if self.book is not None:
            shown["paper"] = rows["paper"].to_numpy()
        return shown.drop(columns=["outcome"])

    def controls_table(self) -> pd.DataFrame:
        """The control coefficients of every outcome (empty without controls)."""
        return did.controls_table(self.fits, self.labels)

    def pretrend_table(self) -> pd.DataFrame:
        """Joint F test and individual p-values of the pre-period terms, one row per outcome."""
        return did.pretrend_table(self.pretrends, self.labels)

    def honest_table(self) -> pd.DataFrame:
        """Every outcome's robust intervals (relative magnitudes, smoothness; the original first)."""
        return did.honest_table(self.sensitivity)

    def breakdown_table(self) -> pd.DataFrame:
        """Breakdown values per outcome: M̄ and M, and M̄ with the year before adoption as reference."""
        return did.breakdown_table(self.sensitivity, self.fits, self.labels)

    @property
    def has_previous_reference(self) -> bool:
        """True if the sensitivity with the year before adoption as reference was run."""
        return any(s.previous is not None for s in self.sensitivity.values())

    def balance_shown(self) -> pd.DataFrame:
        """Table 1 for reading (flat column names, readable variable names)."""
        if self.balance is None:
            return pd.DataFrame()
        wide = self.balance.wide(labels=self.labels)
        wide.columns = [f"{a}: {b}" for a, b in wide.columns]
        return wide.reset_index()

    def tables(self) -> dict[str, pd.DataFrame]:
        """Estimates, balance, pre-trend tests, HonestDiD, staggered comparison, settings."""
        tables = {"estimates": self.estimates(), "settings": self.settings_table(),
                  "panel": self.panel_summary(), "pretrend_tests": self.pretrend_table(),
                  "honest_did": self.honest_table(), "breakdown_values": self.breakdown_table()}
        if self.balance is not None:
            tables["balance"] = self.balance.table()
            tables["balance_table1"] = self.balance_shown()
        if self.staggered is not None and self.staggered.sides:
            tables["staggered"] = pd.concat([side.assign(outcome=o) for o, side in self.staggered.sides.items()],
                                            ignore_index=True)
        return tables

    def diagnostics(self) -> dict:
        """The ``diagnostics`` block of ``results.json``."""
        panel = self.prepared.panel
        first = next(iter(self.fits.values()))
        block: dict[str, Any] = {
            "panel": {"units": panel.n_units, "treated": first.n_treated_units, "controls": first.n_control_units,
                      "balanced": panel.balanced, "years": list(panel.years), "rows": len(panel.frame),
                      "clusters": first.n_clusters},
            "design": self.design.diagnostics(),
            "event_study": {o: fit.diagnostics() for o, fit in self.fits.items()},
            "pretrend_tests": {o: t.diagnostics() for o, t in self.pretrends.items()},
            "pretrend_tests_previous_year_reference": {o: t.diagnostics()
                                                       for o, t in self.previous_pretrends.items()},
            "honest_did": {
                "term": self.settings["honest_term"],
                "intervals": self.honest_table().to_dict(orient="records"),
                "breakdown": {o: {"relative_magnitude": s.breakdown_mbar, "smoothness": s.breakdown_m}
                              for o, s in self.sensitivity.items() if not s.note},
                "previous_year_reference": {
                    "reference": self.design.did_base - 1 if self.has_previous_reference else None,
                    "breakdown": {o: s.previous_breakdown for o, s in self.sensitivity.items()
                                  if s.previous is not None}},
                "not_run": {o: s.note for o, s in self.sensitivity.items() if s.note},
            },
        }
        if self.balance is not None:
            block["balance"] = self.balance.diagnostics()
        if self.staggered is not None:
            block["staggered"] = self.staggered.diagnostics()
        else:
            block["staggered"] = {"source": None}
        if self.book is not None:
            block["book"] = {"n_covered": self.book.n_covered, "n_intervals": self.book.n_intervals}
        return block

    # ------------------------------------------------------------------ text

    def design_text(self) -> str:
        """What was fitted, with this run's bases (Markdown)."""
        fit = next(iter(self.fits.values()))
        panel = self.prepared.panel
        controls = (f" The controls are {narrative.join([self.label(c) for c in panel.controls])}."
                    if panel.controls else " No control variables were used.")
        if self.design.staggered:
            cohorts = narrative.join([str(c) for c in did.adoption_years_in(panel)])
            what = (f"Units adopted in {cohorts}, so the model is in event time: the `event` terms are the "
                    "treated-control gap k years from adoption relative to the year before adoption (k = −1), "
                    f"with year effects relative to {fit.year_base}.")
        else:
            post = narrative.join([f"`{t}`" for t in fit.post_terms])
            verb = "measures" if len(fit.post_terms) == 1 else "measure"
            pre = narrative.join([f"`{t}`" for t in fit.pre_terms])
            what = (f"The year effects are changes relative to {fit.year_base} common to all units; the `did` terms "
                    f"are the treated-control gap in each year minus the gap in {self.design.did_base}. {post} "
                    f"{verb} what happened after {self.design.did_base}; {pre} measure how the gap moved "
                    "before it and are the parallel-trend checks.")
        cluster = ("by unit" if panel.cluster == panel.unit else f"by `{panel.cluster}`")
        return (f"{what}{controls} Standard errors are clustered {cluster} ({fit.n_clusters} clusters) with the "
                f"small-sample factor of Stata's `xtreg, fe vce(cluster)` and fixest, and t tests use "
                f"{fit.df_resid} degrees of freedom.")

    def summary(self) -> str:
        """What was run and what it found, in a few sentences generated from the numbers (Markdown)."""
        panel = self.prepared.panel
        first = next(iter(self.fits.values()))
        balance = "" if panel.balanced else " (unbalanced: not every unit is observed every year)"
        if self.design.staggered:
            design = (f"adoption in {narrative.join([str(c) for c in did.adoption_years_in(panel)])}, "
                      "an event-time design with the year before adoption as reference")
        else:
            design = (f"treated units adopting in {self.design.did_base}, the reference year of the "
                      f"treated × year terms; year effects relative to {first.year_base}")
        lines = [f"Event-study difference-in-differences on {panel.n_units} units ({first.n_treated_units} "
                 f"treated, {first.n_control_units} comparison units) observed {panel.years[0]}-{panel.years[-1]}"
                 f"{balance}: {design}, unit fixed effects, standard errors clustered over {first.n_clusters} "
                 "clusters."]
        for outcome, fit in self.fits.items():
            parts = [did.effect_sentence(did.term_label(t), fit.term(t)) for t in fit.post_terms]
            text = f"**{self.label(outcome)}**: " + "; ".join(parts) + "."
            if outcome in self.pretrends:
                text += " " + did.pretrend_sentence(self.pretrends[outcome], self.reference_label)
                previous = self.previous_pretrends.get(outcome)
                if previous is not None and previous.rejects() != self.pretrends[outcome].rejects():
                    text += " " + did.pretrend_reference_sentence(self.pretrends[outcome], previous,
                                                                  self.design.did_base)
            sens = self.sensitivity.get(outcome)
            if sens is not None and not sens.note:
                text += " " + did.breakdown_sentence(did.term_label(sens.target), sens.breakdown_mbar)
            lines.append(text)
        lines.append(did.claims_sentence(self.design.staggered))
        return "\n\n".join(lines)

    def warnings(self) -> list[str]:
        """Failed pre-trend tests, an unbalanced panel, few clusters or treated units, skipped steps."""
        out = []
        failing = [self.label(o) for o, t in self.pretrends.items() if t.rejects()]
        if failing:
            out.append(f"The joint pre-trend test rejects at 5% for {narrative.join(failing)}: the post-period terms "
                       "of these outcomes mix the reform with a difference that was there before it; read them "
                       "with the HonestDiD intervals.")
        panel = self.prepared.panel
        first = next(iter(self.fits.values()))
        if not panel.balanced:
            out.append("The panel is unbalanced: some units miss some years. The event study uses every row; "
                       "the Callaway-Sant'Anna estimator, where run, uses only units observed in every year.")
        if first.n_clusters < FEW_CLUSTERS:
            out.append(f"Only {first.n_clusters} clusters: clustered standard errors from fewer than "
                       f"{FEW_CLUSTERS} clusters are imprecise, and the intervals may be too narrow.")
        if min(first.n_treated_units, first.n_control_units) < 10:
            out.append(f"Few units in one group ({first.n_treated_units} treated, {first.n_control_units} comparison):"
                       " results depend heavily on each of them.")
        for outcome, why in self.prepared.dropped_outcomes.items():
            out.append(f"Column '{outcome}' was not analysed as an outcome: {why}.")
        dropped = {o: f.n_dropped_missing for o, f in self.fits.items() if f.n_dropped_missing}
        if dropped:
            out.append("Rows with a missing value were left out of the fits: "
                       + ", ".join(f"{self.label(o)} {n}" for o, n in dropped.items()) + ".")
        for outcome, sens in self.sensitivity.items():
            if sens.note:
                out.append(f"HonestDiD was not run for {self.label(outcome)}: {sens.note}.")
        if self.staggered is not None:
            for outcome, note in self.staggered.notes.items():
                out.append(f"Callaway-Sant'Anna was not run for {self.label(outcome)}: {note}.")
        return out

    def glue_values(self) -> dict[str, Any]:
        """Values the book page glues (prefix ``ccmc_``): numbers, and Markdown sentences (``ccmc_text_``)."""
        panel = self.prepared.panel
        first = next(iter(self.fits.values()))
        values: dict[str, Any] = {
            "ccmc_n_units": int(panel.n_units), "ccmc_n_treated": int(first.n_treated_units),
            "ccmc_n_control": int(first.n_control_units),
            "ccmc_treated_share_pct": float(100 * first.n_treated_units / panel.n_units),
            "ccmc_year_first": int(panel.years[0]), "ccmc_year_last": int(panel.years[-1]),
            "ccmc_year_base": int(first.year_base), "ccmc_n_clusters": int(first.n_clusters),
            "ccmc_df": int(first.df_resid),
        }
        if self.design.did_base is not None:
            values["ccmc_did_base"] = int(self.design.did_base)
        for outcome, fit in self.fits.items():
            for row in fit.table().itertuples():
                for suffix, value in (("", row.estimate), ("_lo", row.ci_low), ("_hi", row.ci_high),
                                      ("_p", row.p_value)):
                    values[f"ccmc_{outcome}_{row.term}{suffix}"] = float(value)
            for t in fit.post_terms:
                values[f"ccmc_text_{outcome}_{t}"] = did.effect_sentence(did.term_label(t), fit.term(t))
        for outcome, fit in self.fits.items():
            change = did.largest_pre_change(fit)
            if change is not None:
                values[f"ccmc_{outcome}_largest_pre_change_from"] = change[0]
                values[f"ccmc_{outcome}_largest_pre_change_to"] = change[1]
                values[f"ccmc_{outcome}_largest_pre_change"] = change[2]
        for outcome, test in self.pretrends.items():
            values[f"ccmc_{outcome}_pretrend_F"] = float(test.statistic)
            values[f"ccmc_{outcome}_pretrend_p"] = float(test.p_value)
            values[f"ccmc_text_{outcome}_pretrend"] = did.pretrend_sentence(test, self.reference_label)
        values["ccmc_n_failing_pretrend"] = sum(t.rejects() for t in self.pretrends.values())
        values["ccmc_text_pretrends"] = did.pretrend_overview(self.pretrends, self.labels)
        for outcome, s in self.sensitivity.items():
            if s.note:
                continue
            values[f"ccmc_{outcome}_breakdown_mbar"] = float(s.breakdown_mbar)
            values[f"ccmc_{outcome}_breakdown_m"] = float(s.breakdown_m)
            values[f"ccmc_text_{outcome}_breakdown"] = did.breakdown_sentence(did.term_label(s.target), s.breakdown_mbar)
            if s.previous is not None:
                values[f"ccmc_{outcome}_breakdown_mbar_previous"] = float(s.previous_breakdown)
                values[f"ccmc_text_{outcome}_reference"] = did.reference_sentence(
                    did.term_label(s.target), self.design.did_base, s.breakdown_mbar, s.previous_breakdown,
                    s.previous_fit.term(s.target))
        if self.balance is not None:
            for row in self.balance.between().itertuples():
                values[f"ccmc_balance_{row.variable}_{row.year}_diff"] = float(row.difference)
                values[f"ccmc_balance_{row.variable}_{row.year}_p"] = float(row.p_value)
            for year in self.balance.years:
                values[f"ccmc_text_balance_{year}"] = did.balance_sentence(self.balance, year, self.labels)
        if self.book is not None:
            for (outcome, term), value in ccmc.PUBLISHED_VALUES.items():
                values[f"ccmc_paper_{outcome}_{term}"] = float(value)
            for row in ccmc.published().itertuples():
                values[f"ccmc_paper_significance_{row.outcome}_{row.term}"] = paper_significance(row.significance)
            values["ccmc_n_covered"] = self.book.n_covered
            values["ccmc_n_intervals"] = self.book.n_intervals
        if self.staggered is not None and self.staggered.sides:
            values.update(self._staggered_glue())
        return values

    def _staggered_glue(self) -> dict[str, Any]:
        side = self.staggered.side()
        values: dict[str, Any] = {"ccmc_text_staggered": did.staggered_sentence(side)}
        pre = side[(side["event_time"] < -1) & side["twfe_estimate"].notna()]
        if not pre.empty:
            values["ccmc_stag_twfe_pre_t"] = float((pre["twfe_estimate"] / pre["twfe_std_error"]).abs().max())
            values["ccmc_stag_cs_pre_t"] = float((pre["cs_estimate"] / pre["cs_std_error"]).abs().max())
        last = side.dropna(subset=["twfe_estimate", "cs_estimate"]).iloc[-1]
        values["ccmc_stag_event"] = int(last["event_time"])
        values["ccmc_stag_twfe_last"] = float(last["twfe_estimate"])
        values["ccmc_stag_cs_last"] = float(last["cs_estimate"])
        if "truth" in side:
            values["ccmc_stag_truth_last"] = float(last["truth"])
        if "twfe_noise_free" in side:
            values["ccmc_stag_twfe_noise_free_last"] = float(last["twfe_noise_free"])
            bias = side["twfe_noise_free"] - side["truth"]
            values["ccmc_stag_twfe_bias_max_se"] = float((bias.abs() / side["twfe_std_error"]).max())
        return values

    def balance_text(self) -> str:
        """One sentence per balance year: which variables differ, and in which direction."""
        if self.balance is None:
            return ""
        return " ".join(did.balance_sentence(self.balance, y, self.labels) for y in self.balance.years)

    def pretrend_text(self) -> str:
        """Which outcomes fail the joint pre-trend test, and what changes from the year before adoption."""
        text = did.pretrend_overview(self.pretrends, self.labels)
        lines = [f"- **{self.label(o)}**: " + did.pretrend_reference_sentence(self.pretrends[o], previous,
                                                                             self.design.did_base)
                 for o, previous in self.previous_pretrends.items() if o in self.pretrends]
        return text + ("\n\n" + "\n".join(lines) if lines else "")

    def honest_text(self) -> str:
        """One line per outcome: what its breakdown value says (Markdown list)."""
        lines = []
        for outcome, sens in self.sensitivity.items():
            text = sens.note or did.breakdown_sentence(did.term_label(sens.target), sens.breakdown_mbar)
            lines.append(f"- **{self.label(outcome)}**: {text.removeprefix('HonestDiD: ')}")
        return "\n".join(lines)

    def reference_text(self) -> str:
        """The sensitivity with the year before adoption as reference, outcome by outcome (Markdown)."""
        if not self.has_previous_reference:
            why = ("the event-time design already measures every term from the year before adoption"
                   if self.design.staggered else "the data have no year before the one before adoption")
            return f"Not run: {why}."
        lines = []
        for outcome, s in self.sensitivity.items():
            if s.previous is not None:
                text = did.reference_sentence(did.term_label(s.target), self.design.did_base, s.breakdown_mbar,
                                          s.previous_breakdown, s.previous_fit.term(s.target))
                lines.append(f"- **{self.label(outcome)}**: {text}")
        return "\n".join(lines)

    def staggered_text(self) -> str:
        """What the staggered comparison shows, or why it was not run."""
        if self.staggered is None:
            return ("Not run on these data: every treated unit adopted in the same year, so two-way fixed effects "
                    "compare treated units with never-treated ones only and the problem described above does not arise. "
                    "With an adoption-year column holding several years (first_treated_column), this section "
                    "compares the two estimators on your data.")
        if not self.staggered.sides:
            return "Callaway-Sant'Anna could not be estimated: " + "; ".join(self.staggered.notes.values())
        return did.staggered_sentence(self.staggered.side())

    # ------------------------------------------------------------------ figures

    def figure_names(self) -> tuple[str, ...]:
        """event_studies, honest_did (when it ran), staggered (when it ran)."""
        names = ["event_studies"]
        if any(s.relative is not None for s in self.sensitivity.values()):
            names.append("honest_did")
        if self.staggered is not None and self.staggered.sides:
            names.append("staggered")
        return tuple(names)

    def figure(self, name: str) -> Figure:
        """Draw the named figure (see :meth:`figure_names`)."""
        if name == "event_studies":
            truth = None
            if self.book_data:
                planted = ccmc.truth()
                truth = {o: planted[planted["outcome"] == o].set_index("term")["value"].to_dict()
                         for o in self.fits}
            return did_plots.event_study_grid(list(self.fits.values()), self.labels, truth)
        if name == "honest_did" and "honest_did" in self.figure_names():
            intervals = {o: s.relative.table() for o, s in self.sensitivity.items() if s.relative is not None}
            breakdowns = {o: s.breakdown_mbar for o, s in self.sensitivity.items() if s.relative is not None}
            return did_plots.honest_did_grid(intervals, breakdowns, self.labels,
                                             did.term_label(self.settings["honest_term"]))
        if name == "staggered" and "staggered" in self.figure_names():
            shown = self.staggered.shown
            return did_plots.staggered_figure(self.staggered.side(), f"Staggered adoption: {self.label(shown)}")
        raise KeyError(f"no figure '{name}'; available: {', '.join(self.figure_names())}")


def run(prepared: CCMCPrepared) -> CCMCResult:
    """The whole analysis on a prepared panel (see the module docstring); raises no user error."""
    panel = prepared.panel
    balance = did.balance_table(prepared.frame, unit=panel.unit, time=panel.time, treated=panel.treated,
                                first_treated=panel.first_treated,
                                variables=list(panel.outcomes) + list(panel.controls),
                                years=prepared.design.balance_years)
    pretrends = {o: did.pretrend_test(fit) for o, fit in prepared.fits.items() if fit.pre_terms}
    sensitivity = {o: _sensitivity(prepared, o) for o in prepared.outcomes}
    previous_pretrends = {o: did.pretrend_test(a.previous_fit) for o, a in sensitivity.items()
                          if a.previous_fit is not None and a.previous_fit.pre_terms}
    try:
        staggered = _staggered(prepared)
    except PayreformError:  # pragma: no cover - every step above is checked; kept as a guard
        staggered = None
    book = None
    if prepared.book_data:
        main = pd.concat([fit.table().assign(outcome=o) for o, fit in prepared.fits.items()], ignore_index=True)
        book = _book_comparison(main, tuple(panel.controls))
    return CCMCResult(prepared=prepared, balance=balance, pretrends=pretrends,
                      previous_pretrends=previous_pretrends, sensitivity=sensitivity,
                      staggered=staggered, book=book)


CHAPTER = Chapter(
    name=NAME,
    title="CCMC: bundled payment and the event-study difference-in-differences",
    notebook="ccmc_did.py",
    study="ccmc",
    contract=CONTRACT,
    parameters=PARAMETERS,
    prepare=prepare,
    run=run,
    report_title="Event-study difference-in-differences",
)
