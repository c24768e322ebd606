"""The chapters an analyst can run on their own data: parameters, data contracts, checks.

Each chapter is a notebook in ``notebooks/`` with one cell tagged ``parameters``. This registry
repeats those parameters with their types and help, so that ``payreform run`` can parse
``--set KEY=VALUE`` and check the data *before* executing anything. A test keeps the registry
and the notebooks' parameter cells identical.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from payreform.contracts import (
    numeric_like,
    validate_grouped_time_series,
    validate_panel,
    validate_time_series,
)
from payreform.errors import ParameterError, check_choice, closest
from payreform.io import read_table
from payreform.itsa import CODINGS, IMPACTS, MODELS, analyse_series, compare_series, newey_west_lags
from payreform.report import frame_sha256

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}
_NONE = {"", "none", "null"}


@dataclass(frozen=True)
class Parameter:
    """One notebook parameter.

    ``kind`` is ``str``, ``int``, ``float``, ``bool``, ``list`` (comma-separated), ``lags``
    (an integer or ``auto``) or ``optional_int``. ``optional`` allows ``none``.
    """

    name: str
    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    optional: bool = False

    def parse(self, text: str) -> Any:
        """Convert the text of ``--set name=text`` to the parameter's type.

        Examples
        --------
        >>> Parameter("outcomes", "list", None, "", optional=True).parse("visits, hospitalizations")
        ['visits', 'hospitalizations']
        """
        raw = text.strip()
        if self.optional and raw.lower() in _NONE:
            return None
        try:
            if self.kind == "int":
                value: Any = int(raw)
            elif self.kind == "float":
                value = float(raw)
            elif self.kind == "bool":
                if raw.lower() not in _TRUE | _FALSE:
                    raise ValueError
                value = raw.lower() in _TRUE
            elif self.kind == "list":
                value = [part.strip() for part in raw.split(",") if part.strip()]
                if not value:
                    raise ValueError
            elif self.kind == "lags":
                value = "auto" if raw.lower() == "auto" else int(raw)
                if value != "auto" and value < 0:
                    raise ValueError
            else:
                value = raw
        except ValueError:
            expected = {"int": "a whole number", "float": "a number", "bool": "true or false",
                        "list": "a comma-separated list", "lags": "a whole number >= 0 or auto"}
            raise ParameterError(
                f"--set {self.name}={text!r}: expected {expected.get(self.kind, 'text')}"
            ) from None
        if self.choices is not None:
            check_choice(self.name, value, self.choices)
        return value


@dataclass(frozen=True)
class Chapter:
    """A runnable chapter: its notebook, parameters, contract and pre-flight check."""

    name: str
    title: str
    notebook: str
    study: str
    contract: str
    parameters: tuple[Parameter, ...]
    check: Callable[[Any, Mapping[str, Any]], None] = field(repr=False)
    check_reads_path: bool = False
    """True if ``check`` takes the file path (large person-level files are scanned, not loaded)."""

    def defaults(self) -> dict[str, Any]:
        """Parameter names and default values (what the book uses)."""
        return {p.name: p.default for p in self.parameters}

    def parameter(self, name: str) -> Parameter:
        """Look up a parameter; unknown names raise :class:`ParameterError` with a suggestion."""
        for p in self.parameters:
            if p.name == name:
                return p
        names = [p.name for p in self.parameters]
        raise ParameterError(
            f"chapter '{self.name}' has no parameter '{name}'{closest(name, names)}; "
            f"its parameters are {', '.join(names)}"
        )

    def parse_settings(self, settings: list[str]) -> dict[str, Any]:
        """Parse ``KEY=VALUE`` strings into typed values, checking names and types."""
        values: dict[str, Any] = {}
        for item in settings:
            if "=" not in item:
                raise ParameterError(f"--set {item!r}: write it as KEY=VALUE, for example --set seed=2")
            key, text = item.split("=", 1)
            key = key.strip()
            if key in {"data", "output_dir"}:
                raise ParameterError(f"--set {key}=...: use --data/--out instead")
            values[key] = self.parameter(key).parse(text)
        return values

    def notebook_path(self) -> Path:
        """The chapter's jupytext notebook in this checkout."""
        from payreform.published import data_directory

        path = data_directory().parent.parent / "notebooks" / self.notebook
        if not path.exists():
            raise FileNotFoundError(f"notebook {path} not found; run payreform from a clone of the handbook")
        return path


def load_data(data: str | Path | None, study: str, seed: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The chapter's data: the embedded synthetic set if ``data`` is None, else the file.

    Returns the frame and the ``data`` block of ``results.json`` (source, rows, sha256).

    Examples
    --------
    >>> frame, info = load_data(None, "youxi", seed=1)
    >>> info["source"], info["rows"]
    ('synthetic', 46)
    """
    if data is None:
        from payreform import synth

        frame = synth.generate(study, seed=seed)
        return frame, {"source": "synthetic", "study": study, "seed": seed, "rows": len(frame),
                       "sha256": frame_sha256(frame)}
    table = read_table(data)
    return table.frame, {"source": str(Path(data).resolve()), "rows": len(table.frame),
                         "sha256": table.sha256, "encoding": table.encoding,
                         "delimiter": table.delimiter}


# ----------------------------------------------------------------------------- youxi-itsa

YOUXI_CONTRACT = """\
One row per period (month, quarter or year), no gaps, no duplicate periods.
- time_column (default `month`): `2016-02`, `2016-02-01`, `2016年2月`, `2016Q1` or `2016`.
- outcomes: numeric, no missing values, >= 0; a column whose name ends in `_rate`, `_pct`,
  `率` or `(%)` is a percentage and must lie in [0, 100].
- intervention: a period inside the data, with at least 3 periods before and 3 from it on.
- offset (optional, quasi-Poisson only): a population column, > 0.
CSV in UTF-8 (with or without BOM) or GBK, comma/semicolon/tab separated, or Parquet."""

SEASONAL_CHOICES = ("auto", "none", "ratio_to_moving_average", "season_dummies")

_ITSA_PARAMETERS = {p.name: p for p in (
    Parameter("time_column", "str", "month", "column holding the period of each row"),
    Parameter("outcomes", "list", None, "outcome columns (comma-separated); none = every numeric column",
              optional=True),
    Parameter("intervention", "str", "2017-10", "first period under the reform, in the data's form"),
    Parameter("coding", "str", "zero_at_intervention", "coding of the post-intervention time term",
              choices=CODINGS),
    Parameter("impact", "str", "level_and_slope", "impact model, chosen before looking", choices=IMPACTS),
    Parameter("seasonal", "str", "auto",
              "seasonality; auto = ratio_to_moving_average (the papers') for monthly/quarterly data, none for "
              "annual; season_dummies = month/quarter indicators in the regression",
              choices=SEASONAL_CHOICES),
    Parameter("log", "bool", False, "model ln(y + 1) instead of y (OLS only)"),
    Parameter("hac_lags", "lags", "auto", "Newey-West lag; auto = floor(4 (n/100)^(2/9))"),
    Parameter("bg_order", "int", 1, "lags in the Breusch-Godfrey test"),
)}
"""Parameters shared by the interrupted time-series chapters (defaults adjusted per chapter)."""


def _itsa(name: str, **changes: Any) -> Parameter:
    return replace(_ITSA_PARAMETERS[name], **changes)


YOUXI_PARAMETERS = (
    Parameter("data", "str", None, "data file (CSV or Parquet); none = the synthetic Youxi series", optional=True),
    Parameter("seed", "int", 20171001, "seed of the synthetic data"),
    Parameter("output_dir", "str", "reports/youxi-itsa", "folder for results.json and figures/"),
    _itsa("time_column"),
    _itsa("outcomes"),
    _itsa("intervention"),
    _itsa("coding", default="one_at_intervention"),
    _itsa("impact"),
    _itsa("seasonal"),
    _itsa("log"),
    Parameter("model", "str", "ols", "ols (Newey-West) or quasipoisson", choices=MODELS),
    Parameter("offset", "str", None, "population column for quasi-Poisson rates", optional=True),
    Parameter("fourier", "int", 2, "sine/cosine pairs for seasonality in quasi-Poisson fits"),
    _itsa("hac_lags"),
    _itsa("bg_order"),
    Parameter("horizon", "int", None, "periods after the intervention for the effect estimate; none = last period",
              optional=True),
)


def resolve_itsa_settings(frequency: str, n_periods: int, params: Mapping[str, Any]) -> dict[str, Any]:
    """Turn ``auto`` settings into the values used, given the data's frequency and length.

    Examples
    --------
    >>> resolve_itsa_settings("Y", 10, {"seasonal": "auto", "fourier": 2, "model": "ols"})
    {'seasonal': 'none', 'fourier': 0}
    """
    seasonal = params.get("seasonal", "auto")
    if seasonal == "auto":
        per_year = {"M": 12, "Q": 4, "Y": 1}[frequency]
        seasonal = "ratio_to_moving_average" if frequency != "Y" and n_periods >= 2 * per_year else "none"
    fourier = int(params.get("fourier", 0) or 0)
    if frequency == "Y":
        fourier = 0
    elif frequency == "Q":
        fourier = min(fourier, 1)
    return {"seasonal": seasonal, "fourier": fourier}


def itsa_analysis_settings(ts, params: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for :func:`payreform.itsa.analyse_series` from chapter parameters."""
    resolved = resolve_itsa_settings(ts.frequency, len(ts.frame), params)
    model = params.get("model", "ols")
    hac_lags = params.get("hac_lags", "auto")
    if hac_lags == "auto":
        hac_lags = newey_west_lags(len(ts.frame))
    return {
        "intervention": ts.intervention,
        "seasonal": resolved["seasonal"],
        "log": bool(params.get("log", False)),
        "model": model,
        "coding": params.get("coding", "zero_at_intervention"),
        "impact": params.get("impact", "level_and_slope"),
        "hac_lags": hac_lags,
        "bg_order": int(params.get("bg_order", 1)),
        "offset": params.get("offset") if model == "quasipoisson" else None,
        "fourier": resolved["fourier"] if model == "quasipoisson" else 0,
    }


def _check_time_series(frame: pd.DataFrame, params: Mapping[str, Any]) -> None:
    ts = validate_time_series(frame, time_column=params["time_column"], outcomes=params["outcomes"],
                              intervention=params["intervention"], offset=params.get("offset"))
    if params.get("offset") is not None and params.get("model") != "quasipoisson":
        raise ParameterError("parameter 'offset' applies to model=quasipoisson; set model=quasipoisson or drop it")
    settings = itsa_analysis_settings(ts, params)
    for outcome in ts.outcomes:  # dry run: any error the notebook would hit is raised here
        analyse_series(ts.frame, outcome, **settings)
    horizon = params.get("horizon")
    if horizon is not None and not 0 <= int(horizon) < ts.n_post:
        raise ParameterError(
            f"parameter 'horizon' is {horizon}; it must lie between 0 and {ts.n_post - 1} "
            "(periods after the intervention in the data)"
        )


# ----------------------------------------------------------------------------- sanming-itsa

SANMING_CONTRACT = """\
Long format: one row per period and group (for example hospital / community), or a single
series if group_column is none.
- time_column (default `month`), group_column (default `institution`): every group has the
  same periods, no gaps, no period twice within a group.
- outcomes: numeric, no missing values, >= 0 (modelled as ln(y + 1) by default).
- compare: two group values for the two-group test (default hospital,community).
- intervention: a period inside the data, with at least 3 periods before and 3 from it on.
CSV in UTF-8 (with or without BOM) or GBK, comma/semicolon/tab separated, or Parquet."""

SANMING_PARAMETERS = (
    Parameter("data", "str", None, "data file (CSV or Parquet); none = the synthetic Sanming series", optional=True),
    Parameter("seed", "int", 20171002, "seed of the synthetic data"),
    Parameter("output_dir", "str", "reports/sanming-itsa", "folder for results.json and figures/"),
    _itsa("time_column"),
    Parameter("group_column", "str", "institution", "column naming the series of each row; none = one series",
              optional=True),
    _itsa("outcomes"),
    _itsa("intervention"),
    _itsa("coding", default="time_times_post"),
    _itsa("impact"),
    _itsa("seasonal"),
    _itsa("log", default=True, help="model ln(y + 1) (the paper's scale)"),
    _itsa("hac_lags"),
    _itsa("bg_order"),
    Parameter("compare", "list", ["hospital", "community"],
              "two groups for the two-group (comparative) ITSA; none = no comparison", optional=True),
    Parameter("add_overall", "bool", True, "also analyse the sum of all groups (the city-wide series)"),
    Parameter("placebos", "list", ["2016-10", "2017-01", "2017-04"],
              "earlier dates for placebo interventions inside the pre-period; none = skip", optional=True),
)


def grouped_series(frame: pd.DataFrame, params: Mapping[str, Any]):
    """Validate long-format data for the grouped ITSA chapter (a single series if no group column)."""
    group_column = params.get("group_column")
    if group_column is None:
        frame = frame.assign(_series="all")
        group_column = "_series"
    compare = params.get("compare") if params.get("group_column") is not None else None
    return validate_grouped_time_series(frame, time_column=params["time_column"], group_column=group_column,
                                        outcomes=params.get("outcomes"), intervention=params["intervention"],
                                        compare=compare)


def _check_grouped_time_series(frame: pd.DataFrame, params: Mapping[str, Any]) -> None:
    data = grouped_series(frame, params)
    for ts in data.series.values():
        settings = itsa_analysis_settings(ts, params)
        for outcome in ts.outcomes:
            analyse_series(ts.frame, outcome, **settings)
    compare = params.get("compare")
    if compare and params.get("group_column") is not None:
        first, second = (data.series[g] for g in compare)
        settings = itsa_analysis_settings(first, params)
        for outcome in first.outcomes:
            compare_series(first.frame, second.frame, outcome, **settings)


# ----------------------------------------------------------------------------- ccmc-did

CCMC_CONTRACT = """\
One row per unit (county) and year, no unit-year twice; an unbalanced panel is allowed (and
reported).
- unit_column (default `county_id`), time_column (default `year`, whole years).
- treated_column: 0/1, the same in every year of a unit, with treated and control units; or
  first_treated_column: the adoption year (empty or 0 = never treated), constant within a unit.
- outcomes and controls: numeric; a control must vary within some unit.
- year_base and did_base: years present in the data.
- cluster_column (optional, default the unit): must group whole units.
CSV in UTF-8 (with or without BOM) or GBK, comma/semicolon/tab separated, or Parquet."""

CCMC_PARAMETERS = (
    Parameter("data", "str", None, "data file (CSV or Parquet); none = the synthetic 528-county panel", optional=True),
    Parameter("seed", "int", 20200101, "seed of the synthetic data"),
    Parameter("output_dir", "str", "reports/ccmc-did", "folder for results.json and figures/"),
    Parameter("unit_column", "str", "county_id", "column identifying the unit (county)"),
    Parameter("time_column", "str", "year", "column holding the year"),
    Parameter("treated_column", "str", "treated", "0/1 treatment-group column; none if first_treated_column is given",
              optional=True),
    Parameter("first_treated_column", "str", None, "adoption-year column for staggered designs (empty or 0 = never)",
              optional=True),
    Parameter("outcomes", "list", None, "outcome columns; none = every other numeric column", optional=True),
    Parameter("controls", "list", ["log_population", "log_gdp_per_capita", "population_density",
                                   "insurance_fund_per_capita", "share_aged_65_plus"],
              "time-varying control columns; none = no controls", optional=True),
    Parameter("year_base", "int", 2018, "year whose year dummy is omitted"),
    Parameter("did_base", "int", 2020, "year whose treated x year interaction is omitted (the adoption year)"),
    Parameter("cluster_column", "str", None, "cluster column for standard errors; none = the unit", optional=True),
    Parameter("honest_term", "str", "did2021", "post-period term for the HonestDiD sensitivity analysis"),
    Parameter("mbar", "list", ["0", "0.5", "1", "1.5", "2"], "relative-magnitude bounds for HonestDiD"),
)


def did_outcomes(frame: pd.DataFrame, params: Mapping[str, Any]) -> list[str]:
    """The outcome columns: as given, or every numeric column that is not a key, control or cluster."""
    if params.get("outcomes"):
        return list(params["outcomes"])
    skip = {params.get(k) for k in ("unit_column", "time_column", "treated_column", "first_treated_column",
                                     "cluster_column")} | set(params.get("controls") or [])
    outcomes = [c for c in frame.columns if c not in skip and numeric_like(frame[c])]
    if not outcomes:
        raise ParameterError("no numeric outcome column found; name the outcomes with outcomes=col1,col2")
    return outcomes


def did_panel(frame: pd.DataFrame, params: Mapping[str, Any]):
    """Validate a unit-by-year panel with the chapter's parameters (see :func:`validate_panel`)."""
    if params.get("treated_column") is None and params.get("first_treated_column") is None:
        raise ParameterError("set treated_column (0/1) or first_treated_column (adoption year)")
    treated = None if params.get("first_treated_column") else params.get("treated_column")
    return validate_panel(frame, unit=params["unit_column"], time=params["time_column"],
                          outcomes=did_outcomes(frame, params), treated=treated,
                          first_treated=params.get("first_treated_column"), controls=params.get("controls") or (),
                          year_base=params["year_base"], did_base=params["did_base"],
                          cluster=params.get("cluster_column"))


def did_settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for :func:`payreform.did.event_study` from the chapter's parameters."""
    staggered = params.get("first_treated_column") is not None
    return {"unit": params["unit_column"], "time": params["time_column"],
            "treated": None if staggered else params.get("treated_column"),
            "first_treated": params.get("first_treated_column"), "controls": params.get("controls") or (),
            "year_base": params["year_base"], "did_base": params["did_base"],
            "cluster": params.get("cluster_column")}


def _check_panel(frame: pd.DataFrame, params: Mapping[str, Any]) -> None:
    from payreform import did

    panel = did_panel(frame, params)
    try:
        bounds = [float(b) for b in params.get("mbar") or []]
    except ValueError:
        raise ParameterError(f"parameter 'mbar' is {params.get('mbar')!r}; give numbers, for example 0,0.5,1") from None
    if any(b < 0 for b in bounds):
        raise ParameterError("parameter 'mbar' must hold bounds >= 0")
    for outcome in panel.outcomes:
        result = did.event_study(frame, outcome=outcome, **did_settings(params))
        if params.get("honest_term") not in result.params.index:
            raise ParameterError(
                f"parameter 'honest_term' is {params.get('honest_term')!r}, not a term of the model "
                f"({', '.join(result.post_terms)}); choose a post-period term"
            )


# ----------------------------------------------------------------------------- gz-capitation

GZ_CONTRACT = """\
Person-year outpatient settlement records, one row per person and year (never printed).
- person_id, year, scheme (UEBHI / URRBHI, or 310 for employees), gender (1 male, 2 female),
  age (0-120), ocsd (Class A disease codes separated by `;`, empty for none),
  inpatient_prev_year (0/1), los (days, >= 0), fund_exp (RMB, >= 0); names remappable with
  --set person_id_column=... etc.
- both years of the weighting (base_year, target_year) present.
- CSV (UTF-8 or GBK) or Parquet; large files are scanned with DuckDB, not loaded into memory.
Tables built from the data suppress cells with fewer than min_cell_size persons."""

GZ_COLUMN_PARAMETERS = {"person_id": "person_id", "year": "year", "scheme": "scheme", "gender": "gender",
                        "age": "age", "ocsd": "ocsd", "inpatient_prev_year": "inpatient_prev_year", "los": "los",
                        "fund_exp": "fund_exp"}

GZ_PARAMETERS = (
    Parameter("data", "str", None, "person-year file (CSV or Parquet); none = the synthetic city", optional=True),
    Parameter("seed", "int", 20240101, "seed of the synthetic city"),
    Parameter("output_dir", "str", "reports/gz-capitation", "folder for results.json and figures/"),
    Parameter("scale", "float", 0.01, "synthetic city only: fraction of the full city (1 = about 18 million rows)"),
    *(Parameter(f"{name}_column", "str", default, f"column holding {name}") for name, default in
      GZ_COLUMN_PARAMETERS.items()),
    Parameter("base_year", "int", 2023, "the earlier year of the weighting"),
    Parameter("target_year", "int", 2024, "the year whose population is paid (and whose groups are clustered)"),
    Parameter("groups", "str", "paper", "groupings used for the standards: paper (published) or clustered (ours)",
              choices=("paper", "clustered")),
    Parameter("weighting", "str", "unweighted", "clustering: bands weighted by persons or not",
              choices=("unweighted", "persons")),
    Parameter("k_age", "int", 3, "number of age groups"),
    Parameter("k_disease", "list", ["UEBHI:4", "URRBHI:5"], "number of single-disease groups per scheme"),
    Parameter("k_max", "int", 10, "largest k of the Calinski-Harabasz curve"),
    Parameter("omega_step", "float", 0.1, "step of the weight grid from 0 to 1"),
    Parameter("min_cell_size", "int", 10, "cells with fewer persons are suppressed in every table"),
)


def per_scheme(values: list[str] | None, parameter: str) -> dict[str, int]:
    """Parse ``["UEBHI:4", "URRBHI:5"]`` into ``{"UEBHI": 4, "URRBHI": 5}``.

    Examples
    --------
    >>> per_scheme(["UEBHI:4", "URRBHI:5"], "k_disease")
    {'UEBHI': 4, 'URRBHI': 5}
    """
    parsed = {}
    for item in values or []:
        scheme, _, number = str(item).partition(":")
        try:
            parsed[scheme.strip()] = int(number)
        except ValueError:
            raise ParameterError(
                f"parameter '{parameter}' has {item!r}; write SCHEME:NUMBER, for example UEBHI:4,URRBHI:5"
            ) from None
    return parsed


def gz_settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for :func:`payreform.capitation.analyse_capitation` from the parameters."""
    step = float(params["omega_step"])
    if not 0 < step <= 1:
        raise ParameterError(f"parameter 'omega_step' is {step}; use a step between 0 and 1, for example 0.1")
    count = int(round(1 / step))
    settings = {
        "columns": {name: params[f"{name}_column"] for name in GZ_COLUMN_PARAMETERS},
        "years": (int(params["base_year"]), int(params["target_year"])),
        "weighting": params["weighting"], "k_age": int(params["k_age"]),
        "k_disease": per_scheme(params["k_disease"], "k_disease"), "k_max": int(params["k_max"]),
        "omegas": [round(i / count, 10) for i in range(count + 1)], "min_cell_size": int(params["min_cell_size"]),
    }
    if params["groups"] == "paper":
        from payreform.synth import gz

        settings["age_groups"], settings["disease_groups"] = gz.published_groupings()
    return settings


def person_year_source(data: str | Path | None, seed: int, scale: float) -> tuple[Any, dict[str, Any]]:
    """The GZ chapter's data: the synthetic city in memory, or the path of the file (scanned later).

    Returns the source and the ``data`` block of ``results.json``; a file is never loaded whole.
    """
    if data is None:
        from payreform import synth

        frame = synth.generate("gz", seed=seed, scale=scale)
        return frame, {"source": "synthetic", "study": "gz", "seed": seed, "scale": scale, "rows": len(frame),
                       "sha256": frame_sha256(frame)}
    from payreform.io import file_sha256

    path = Path(data)
    if not path.exists():
        raise ParameterError(f"data file '{path}' does not exist; check the path given to --data")
    return str(path.resolve()), {"source": str(path.resolve()), "sha256": file_sha256(path)}


def _check_person_years(path: Any, params: Mapping[str, Any]) -> None:
    from payreform.capitation import validate_person_years

    settings = gz_settings(params)
    validate_person_years(path, columns=settings["columns"], years=settings["years"])


CHAPTERS: dict[str, Chapter] = {
    "youxi-itsa": Chapter(
        name="youxi-itsa",
        title="Youxi: integrated payment and interrupted time series",
        notebook="youxi_itsa.py",
        study="youxi",
        contract=YOUXI_CONTRACT,
        parameters=YOUXI_PARAMETERS,
        check=_check_time_series,
    ),
    "sanming-itsa": Chapter(
        name="sanming-itsa",
        title="Sanming: city-wide interrupted time series, hospitals vs community institutions",
        notebook="sanming_itsa.py",
        study="sanming",
        contract=SANMING_CONTRACT,
        parameters=SANMING_PARAMETERS,
        check=_check_grouped_time_series,
    ),
    "ccmc-did": Chapter(
        name="ccmc-did",
        title="CCMC: bundled payment and the event-study difference-in-differences",
        notebook="ccmc_did.py",
        study="ccmc",
        contract=CCMC_CONTRACT,
        parameters=CCMC_PARAMETERS,
        check=_check_panel,
    ),
    "gz-capitation": Chapter(
        name="gz-capitation",
        title="GZ: risk-adjusted outpatient capitation, from settlement records to payment standards",
        notebook="gz_capitation.py",
        study="gz",
        contract=GZ_CONTRACT,
        parameters=GZ_PARAMETERS,
        check=_check_person_years,
        check_reads_path=True,
    ),
}


def get(name: str) -> Chapter:
    """The chapter called ``name``; unknown names raise :class:`ParameterError` with a suggestion."""
    if name not in CHAPTERS:
        raise ParameterError(
            f"no chapter '{name}'{closest(name, CHAPTERS)}; available: {', '.join(CHAPTERS)}"
        )
    return CHAPTERS[name]
