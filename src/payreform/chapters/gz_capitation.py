"""Chapter runner ``gz-capitation``: risk-adjusted outpatient capitation from person-year records.

``prepare`` reads the records once (a file is scanned by DuckDB, never loaded whole; an Excel
workbook is read once and registered in DuckDB), hashes the input once, checks the person-year
contract in the same pass that computes the cell statistics, and derives every default that
comes from the data: the base and target years (the two latest), the schemes and disease codes
found, where the groups come from (the GZ paper's on the book's synthetic city, clustered on any
other data, the diseases file's if it has a ``group`` column), the numbers of groups (first peak
of the Calinski-Harabasz index, else the elbow) and whether length of stay stays in the model.
``run`` works on the cell statistics only: screening, grouping, standards, blending, predictive
ratios, fit, and on the book's data the comparison with the planted truth and the paper.

Examples
--------
>>> from payreform.chapters import gz_capitation
>>> prepared = gz_capitation.prepare(parameters={"scale": 0.002})
>>> prepared.settings["groups"], prepared.settings.source("groups")
('paper', 'from the data')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from payreform import capitation as cap
from payreform import narrative, plots, published, report
from payreform.capitation.schema import check_min_cell_size
from payreform.chapters import gz_text
from payreform.chapters.base import (
    COMMON_PARAMETERS,
    LANGUAGE_PARAMETER,
    RUNTIME_PARAMETERS,
    SOURCE_DATA,
    Chapter,
    Parameter,
    PreparedInput,
    load_prepared,
    resolve,
)
from payreform.chapters.result import ChapterResult
from payreform.contracts.person_years import CONTRACT, SEPARATOR
from payreform.errors import ParameterError
from payreform.plots.capitation import standards_heatmaps
from payreform.synth import gz

NAME = "gz-capitation"

COLUMN_NAMES = ("person_id", "year", "scheme", "gender", "age", "ocsd", "inpatient_prev_year",
                "los", "fund_exp")

PARAMETERS = (
    *COMMON_PARAMETERS,
    LANGUAGE_PARAMETER,
    Parameter("seed", "int", gz.DEFAULT_SEED, "seed of the synthetic city"),
    Parameter("output_dir", "str", "reports/gz-capitation",
              "folder for results.json, tables/ and figures/"),
    Parameter("scale", "float", 0.01,
              "synthetic city only: fraction of the full city (1 = about 18 million rows)"),
    *(Parameter(f"{name}_column", "str", name, f"column holding {name}",
                optional=name == "los") for name in COLUMN_NAMES),
    Parameter("base_year", "int", None, "the earlier year of the weighting",
              derived="the year before the target year"),
    Parameter("target_year", "int", None, "the year whose persons are paid and whose groups are "
              "clustered", derived="the latest year"),
    Parameter("schemes", "list", None, "scheme codes and their labels, CODE:LABEL,...",
              derived="every code in the data"),
    Parameter("diseases", "str", None, "CSV (or Excel) file of code,name[,group] listing the "
              "disease codes", derived="every code in the data"),
    Parameter("ocsd_separator", "str", SEPARATOR, "separator of the disease codes in one cell"),
    Parameter("groups", "str", None, "groups of the payment model: clustered, paper (the GZ "
              "paper's) or file (the diseases file's group column)", choices=cap.GROUP_SOURCES,
              derived="clustered (paper on the book's city, file with a group column)"),
    Parameter("weighting", "str", "unweighted", "clustering: bands and diseases weighted by "
              "persons or not", choices=cap.WEIGHTINGS),
    Parameter("k_age", "list", None, "number of age groups: one number or SCHEME:K,...",
              derived="first Calinski-Harabasz peak, else the elbow"),
    Parameter("k_disease", "list", None, "number of single-disease groups: one number or "
              "SCHEME:K,...", derived="first Calinski-Harabasz peak, else the elbow"),
    Parameter("k_max", "int", 10, "largest number of groups tried"),
    Parameter("los", "str", "auto", "length of stay in the payment model: auto (the screening "
              "rule), keep or drop", choices=("auto", "keep", "drop")),
    Parameter("omega_step", "float", 0.1, "step of the weights from 0 to 1"),
    Parameter("min_cell_size", "int", cap.MIN_CELL_SIZE,
              "no published number rests on fewer persons"),
    Parameter("engine", "str", "duckdb", "engine of the pass over the records: duckdb (this "
              "machine) or spark (Apache Spark; same results)", choices=cap.ENGINES),
    Parameter("spark_master", "str", cap.SPARK_MASTER, "engine=spark only: local[2] (this "
              "machine), local[*], spark://HOST:7077 or yarn"),
    *RUNTIME_PARAMETERS,
)

ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class GZPrepared(PreparedInput):
    """The cell statistics of the records (checked against the contract) and the settings."""

    cells: cap.CellStatistics = field(default=None, repr=False)
    diseases_file: str | None = None


def _per_scheme(values: Any, parameter: str, schemes: tuple[str, ...]
                ) -> int | dict[str, int] | None:
    """``["3"]`` -> 3, ``["A:3", "B:4"]`` -> {"A": 3, "B": 4}; None stays None."""
    if values is None:
        return None
    items = [values] if isinstance(values, (int, str)) else list(values)
    if len(items) == 1 and ":" not in str(items[0]):
        try:
            return int(items[0])
        except ValueError:
            pass
    parsed = {}
    for item in items:
        scheme, _, number = str(item).partition(":")
        try:
            parsed[scheme.strip()] = int(number)
        except ValueError:
            raise ParameterError(f"parameter '{parameter}' has {item!r}; write one number or "
                                 "SCHEME:NUMBER for each scheme, for example A:3,B:4") from None
    unknown = [s for s in parsed if s not in schemes]
    if unknown:
        raise ParameterError(f"parameter '{parameter}' names the scheme '{unknown[0]}'; the data "
                             f"have {', '.join(schemes)}")
    return parsed


def _as_items(schemes: tuple[str, ...], grouping: cap.Grouping) -> list[str]:
    return [f"{s}:{grouping.k(s)}" for s in schemes if s in grouping.schemes]


def _read(data: Any, values: Mapping[str, Any], progress: ProgressCallback | None
          ) -> tuple[cap.CellStatistics, dict[str, Any]]:
    """The one pass over the data, and the ``data`` block of results.json."""
    columns = {name: values[f"{name}_column"] for name in COLUMN_NAMES}
    diseases = cap.load_disease_file(values["diseases"]) if values["diseases"] else None
    options = {"columns": columns, "diseases": diseases,
               "scheme_codes": cap.parse_scheme_codes(values["schemes"]),
               "separator": values["ocsd_separator"], "progress": progress,
               "engine": values["engine"], "spark_master": values["spark_master"]}
    if data is None:
        frame = gz.generate(seed=values["seed"], scale=values["scale"])
        cells = cap.cell_statistics(frame, **options)
        info = {"source": "synthetic", "study": "gz", "seed": values["seed"],
                "scale": values["scale"], "rows": cells.rows,
                "sha256": report.frame_sha256(frame)}
        return cells, info
    if isinstance(data, pd.DataFrame):
        cells = cap.cell_statistics(data, **options)
        return cells, {"source": "data frame", "rows": cells.rows,
                       "sha256": report.frame_sha256(data)}
    from payreform.io.tables import check_data_path, file_sha256

    path = check_data_path(data)
    with ThreadPoolExecutor(max_workers=1) as pool:  # hash while the engine scans (hashlib frees the GIL)
        digest = pool.submit(file_sha256, path)
        cells = cap.cell_statistics(path, sheet=values["sheet"], **options)
        reading = cells.reading
        info = {"source": str(path.resolve()), "file": path.name, "rows": cells.rows,
                "sha256": reading.get("sha256") or digest.result()}
    info |= {k: reading[k] for k in ("encoding", "delimiter", "sheet") if reading.get(k)}
    return cells, info


def prepare(data: Any = None, parameters: Mapping[str, Any] | None = None,
            progress: ProgressCallback | None = None) -> GZPrepared:
    """Read, hash and check the records once and resolve every setting (see the module docstring).

    Parameters
    ----------
    data
        None (the book's synthetic city), a file path (CSV, Excel or Parquet) or a DataFrame.
    parameters
        Values of :data:`PARAMETERS` (missing ones take their defaults); a notebook passes
        ``CHAPTER.collect(globals())``.
    progress
        Optional ``progress(step, done, total)`` callback for the pass over the data.

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
    data = values["data"] if data is None else data
    if values["los_column"] in ("", "none"):
        values["los_column"] = None
    cells, info = _read(data, values, progress)
    book = info["source"] == "synthetic"
    min_cell_size = check_min_cell_size(values["min_cell_size"])
    derived: dict[str, Any] = {}
    base, target = cap.two_latest_years(cells, values["base_year"], values["target_year"])
    if values["base_year"] is None:
        derived["base_year"] = base
    if values["target_year"] is None:
        derived["target_year"] = target
    if values["schemes"] is None:
        derived["schemes"] = list(cells.schemes)
    if values["diseases"] is None:
        derived["diseases"] = f"{len(cells.diseases.codes)} codes in the data"
    groups = values["groups"]
    if groups is None:
        groups = "paper" if book else "file" if cells.diseases.groups else "clustered"
        derived["groups"] = groups
    cap.omega_grid(float(values["omega_step"]))
    options = {"year": target, "weighting": values["weighting"], "k_max": values["k_max"],
               "min_cell_size": min_cell_size}
    k_age = _per_scheme(values["k_age"], "k_age", cells.schemes)
    k_disease = _per_scheme(values["k_disease"], "k_disease", cells.schemes)
    ages = cap.group_age_bands(cells, k=k_age, **options)
    diseases = cap.group_diseases(cells, k=k_disease, **options)
    if values["k_age"] is None:
        derived["k_age"] = _as_items(cells.schemes, ages)
    if values["k_disease"] is None:
        derived["k_disease"] = _as_items(cells.schemes, diseases)
    screening = cap.screen_factors(cells, years=(base, target), min_cell_size=min_cell_size)
    if values["los"] == "auto":
        derived["los"] = "drop" if screening.drop_los else "keep"
    age_map, disease_map = cap.groups_for(groups, cells, ages, diseases)
    cap.payment_standards(cells, age_map, disease_map, years=(base, target),
                          min_cell_size=min_cell_size)
    settings = resolve(PARAMETERS, values, derived)
    return GZPrepared(chapter=NAME, settings=settings, data=info, cells=cells,
                      diseases_file=values["diseases"])


@dataclass(frozen=True, eq=False)
class BookComparison:
    """What only the book's synthetic city allows: the planted truth and the paper beside the
    estimates, and the checks of the paper's own figures."""

    coefficients: pd.DataFrame
    se_ratio: pd.DataFrame
    groupings: pd.DataFrame
    gender: pd.DataFrame
    savings: dict[str, float]
    truth_savings_pct: float
    los_p: dict[str, float]


def _book(analysis: cap.CapitationAnalysis, scale: float) -> BookComparison | None:
    if analysis.parameters["groups"] != "paper":
        return None
    model = analysis.standards.table()
    keys = ["scheme", "year", "term"]
    truth = gz.truth("coefficients").rename(columns={"value": "truth"})
    printed = published.load("gz_table7_8_coefficients")
    comparison = (model[[*keys, "estimate", "std_error", "ci_low", "ci_high"]]
                  .merge(truth, on=keys, how="left")
                  .merge(printed[[*keys, "estimate", "plus_minus"]].rename(
                      columns={"estimate": "paper"}), on=keys, how="left"))
    comparison["covers_truth"] = ((comparison["ci_low"] <= comparison["truth"])
                                  & (comparison["truth"] <= comparison["ci_high"]))
    groupings = pd.concat([cap.compare_groupings(cap.paper_grouping_table(), weighting=w)
                           .table().assign(weighting=w) for w in cap.WEIGHTINGS],
                          ignore_index=True)
    truth_half = gz.truth("simulation").query("scheme == 'total' and omega == 0.5")
    return BookComparison(comparison, gz_text.paper_se_ratio(model, scale), groupings,
                          gz_text.paper_gender_check(), gz_text.paper_savings(),
                          float(truth_half["savings_pct"].iloc[0]), gz_text.paper_los_p_values())


@dataclass(frozen=True, eq=False)
class GZResult(ChapterResult):
    """Everything the capitation chapter computes (see :func:`run`)."""

    analysis: cap.CapitationAnalysis = field(default=None, repr=False)
    book: BookComparison | None = field(default=None, repr=False)

    chapter = NAME

    @property
    def years(self) -> tuple[int, int]:
        """Base and target year."""
        return self.analysis.standards.years

    @property
    def min_cell_size(self) -> int:
        """No published number rests on fewer persons."""
        return self.analysis.min_cell_size

    def estimates(self) -> pd.DataFrame:
        """Screening and payment-model coefficients and every cell's standard (see
        :meth:`payreform.capitation.CapitationAnalysis.estimates`)."""
        return self.analysis.estimates()

    def persons(self) -> pd.DataFrame:
        """Persons and fund expenditure per scheme and year (fewer than min_cell_size hidden)."""
        counts = self.analysis.cells.counts()
        small = counts["persons"] < self.min_cell_size
        counts["persons"] = counts["persons"].astype(float).where(~small)
        counts["fund_exp"] = counts["fund_exp"].where(~small)
        counts["per_capita"] = counts["fund_exp"] / counts["persons"]
        return counts

    def diagnostics(self) -> dict:
        """The ``diagnostics`` block of ``results.json``."""
        block = self.analysis.diagnostics()
        block["settings"] = {k: v for k, v in self.settings.values().items()
                             if k not in ("data", "prepared_input")}
        block["k_rules"] = {"age": dict(self.analysis.age_groups.rule),
                            "disease": dict(self.analysis.disease_groups.rule)}
        if self.book is not None:
            block["paper"] = {"savings": self.book.savings, "los_p_values": self.book.los_p,
                              "se_ratio_median": float(self.book.se_ratio["ratio"].median())}
        return block

    def tables(self) -> dict[str, pd.DataFrame]:
        """Named tables, small cells suppressed (``tables/<name>.csv``)."""
        a = self.analysis
        tables = {
            "estimates": self.estimates(), "persons": self.persons(),
            "screening": a.screening.table(), "age_groups": a.age_groups.table(),
            "age_group_summary": a.age_groups.group_table(),
            "disease_groups": a.disease_groups.table(),
            "disease_group_summary": a.disease_groups.group_table(),
            "calinski_harabasz": pd.concat(
                [a.age_groups.curve_table().assign(dimension="age_band"),
                 a.disease_groups.curve_table().assign(dimension="disease")], ignore_index=True),
            "standards": a.standards.standards_table(), "standards_fit": a.standards.fit,
            "simulation": a.simulation.table(), "predictive_ratios": a.predictive_ratios.table(),
            "fit_statistics": a.fit.table(), "settings": self.settings_table()}
        if self.book is not None:
            tables["paper_groupings"] = self.book.groupings
        return tables

    def figure_names(self) -> tuple[str, ...]:
        """calinski_harabasz, standards_heatmap, savings_by_omega, predictive_ratios."""
        return ("calinski_harabasz", "standards_heatmap", "savings_by_omega", "predictive_ratios")

    def figure(self, name: str) -> Figure:
        """Draw the named figure (see :meth:`figure_names`)."""
        import matplotlib.pyplot as plt

        a = self.analysis
        if name == "calinski_harabasz":
            fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
            plots.calinski_harabasz_figure(a.age_groups, ax=axes[0])
            plots.calinski_harabasz_figure(a.disease_groups, ax=axes[1])
            fig.tight_layout()
            return fig
        if name == "standards_heatmap":
            return standards_heatmaps(a.standards, self.years[1])
        if name == "savings_by_omega":
            paper = None
            if self.book is not None:
                paper = gz.published("simulation")
                paper = paper[paper["omega"] < 1]
            return plots.savings_figure(a.simulation, published=paper)
        if name == "predictive_ratios":
            ratios = a.predictive_ratios.table()
            return plots.predictive_ratio_figure(ratios[ratios["omega"] == 1.0])
        raise KeyError(f"no figure '{name}'; available: {', '.join(self.figure_names())}")

    # ------------------------------------------------------------------ text

    def los_p_values(self) -> dict[str, float]:
        """p-value of length of stay per scheme and year of the screening regressions."""
        fit = self.analysis.screening.fit
        return {f"{r.scheme} {r.year}": r.los_p_value for r in fit.itertuples()}

    def pooled(self) -> list[str]:
        """Every pooling step, in words."""
        return [*self.analysis.age_groups_notes(), *self.analysis.standards.notes]

    def summary(self) -> str:
        """What was run and what it found, in sentences generated from the numbers (Markdown)."""
        a = self.analysis
        base, target = self.years
        counts = a.cells.counts()
        grid = a.standards.standards_table()
        fit = a.standards.fit.set_index(["scheme", "year"])["r_squared"]
        screening = a.screening.fit["r_squared"]
        tenths = a.predictive_ratios.table()
        tenths = tenths[(tenths["dimension"] == "predicted_tenth") & (tenths["omega"] == 1.0)]
        source = {"paper": "the GZ paper's published groups", "file": "the diseases file's "
                  "groups (ages clustered)", "clustered": "the groups clustered from these data",
                  "given": "the groups given"}[a.parameters["groups"]]
        lines = [
            f"**Data.** {a.cells.rows:,} person-years in {len(a.cells.years)} year"
            f"{'s' if len(a.cells.years) > 1 else ''} ({narrative.join(map(str, a.cells.years))}); "
            f"the standards are estimated for {base} and {target}. "
            + gz_text.persons_sentence(counts, (base, target), self.min_cell_size),
            f"**Screening.** The screening regressions explain between "
            f"{narrative.fmt(100 * screening.min(), 1)}% and "
            f"{narrative.fmt(100 * screening.max(), 1)}% "
            f"of the variance of fund expenditure (R²). "
            + gz_text.los_sentence(a.screening.drop_los, self.los_p_values(), a.screening.alpha),
            "**Groups.** " + gz_text.grouping_sentence(a.age_groups) + " "
            + gz_text.grouping_sentence(a.disease_groups) + f" The payment model uses {source}.",
            f"**Standards.** The payment model of {target} explains "
            + narrative.join([f"{narrative.fmt(100 * fit[(s, target)], 1)}% ({s})"
                              for s in a.standards.schemes])
            + " of the variance. " + gz_text.floor_sentence(int(grid["floored"].sum())),
            "**Blending.** " + gz_text.savings_sentence(a.simulation.table(), base, target),
            f"**Selection.** By tenth of predicted cost, with the {target} standards: "
            + gz_text.selection_sentence(tenths),
            "**Disclosure.** " + gz_text.pooling_sentence(self.pooled(), self.min_cell_size) + " "
            + gz_text.suppression_sentence(int(grid["suppressed"].sum()), len(grid),
                                           self.min_cell_size),
        ]
        return "\n\n".join(lines)

    def term_labels(self, language: str = "en") -> dict[str, str]:
        """Readable names of the payment model's terms and the cells' standards."""
        zh = language == "zh"
        labels = {"intercept": "截距" if zh else "intercept",
                  "inpatient_1": "上年住院" if zh else "hospitalised in the previous year",
                  "gender": "女性" if zh else "female", "age": "年龄（岁）" if zh else "age (years)",
                  "ocsd": "患门诊慢特病" if zh else "any chronic or special disease",
                  "inpatient": "上年住院" if zh else "hospitalised in the previous year",
                  "los": "住院天数" if zh else "length of stay (days)"}
        sex = {"1": "男" if zh else "men", "2": "女" if zh else "women"}
        for structure in self.analysis.standards.structures.values():
            for term in structure.terms():
                bits = term.split("_")
                if term.startswith("gender_age_"):
                    labels[term] = (f"{sex[bits[2]]} × 年龄组 {bits[3]}" if zh
                                    else f"{sex[bits[2]]} × age group {bits[3]}")
                elif term.startswith("age_"):
                    labels[term] = f"年龄组 {bits[1]}" if zh else f"age group {bits[1]}"
                elif term.startswith("ocsd_"):
                    name = structure.ocsd_labels.get(int(bits[1]), bits[1])
                    labels[term] = f"病种组 {bits[1]}（{name}）" if zh else f"OCSD {bits[1]} ({name})"
        return labels

    def method_text(self, language: str = "en") -> str:
        """The method of this run in one paragraph (English or Chinese)."""
        base, target = self.years
        s = self.settings
        if language == "zh":
            return (f"按险种和年度，以 DuckDB 一次扫描人-年结算记录，汇总到单元格（计数、合计、平方和），"
                    f"由此精确得到个人层面的 OLS 系数和 HC1 稳健标准误。先以多元线性回归筛选风险因素"
                    f"（性别、年龄、门诊慢特病、上年住院、住院天数）；再以一维 K 均值的精确解将年龄段和单病种"
                    f"按 {target} 年人均基金支出分组（组数取 Calinski-Harabasz 指数的第一个峰值，无峰值时取"
                    f"组内平方和的拐点）；然后以性别×年龄组、病种组和上年住院为自变量估计 {base} 年和 {target} "
                    f"年的支付标准，按权重 ω 加权（步长 {s['omega_step']}），用于 {target} 年参保人，并计算"
                    f"按预测费用十分位的预测比。少于 {self.min_cell_size} 人的组合并到相邻组，任何公布的数字"
                    "都不基于更少的人。")
        step, minimum = s["omega_step"], self.min_cell_size
        return (
            f"Per insurance scheme and year, the person-year records were reduced in one DuckDB "
            f"pass to cell statistics (counts, sums and sums of squares), which give the person-"
            f"level OLS coefficients and HC1 standard errors exactly. Risk factors were screened "
            f"by multiple linear regression (gender, age, any chronic or special disease, "
            f"hospitalisation in the previous year, length of stay); age bands and single diseases"
            f" were grouped by exact one-dimensional k-means of their {target} per-capita fund "
            f"expenditure (the number of groups at the first peak of the Calinski-Harabasz index, "
            f"or the elbow of the within-group sum of squares when there is none); the payment "
            f"standards of {base} and {target} were estimated on gender x age group, disease group"
            f" and previous-year hospitalisation, blended with weight omega on {target} (steps of "
            f"{step}) and applied to the {target} persons; predictive ratios were computed by "
            f"tenth of predicted cost. Groups of fewer than {minimum} persons were pooled with a "
            f"neighbour; no published number rests on fewer persons.")

    def limitations(self, language: str = "en") -> list[str]:
        """What the method cannot show."""
        zh = language == "zh"
        return [
            "“节约”来自用较早年份的标准支付当年的人群；它不说明医疗服务是否更有效率。" if zh else
            "The simulated savings come from paying this year's persons partly at an earlier "
            "year's standards; they say nothing about whether care became more efficient.",
            "模型只含性别、年龄、所列病种和上年住院；模型未解释的费用差异仍可能引发选择病人。" if zh else
            "The standards use only gender, age, the listed diseases and previous "
            "hospitalisation; what they leave unexplained can still reward a provider for "
            "choosing patients.",
            "标准是两年的回归估计；人群或目录变化时需要重新估计。" if zh else
            "The standards are regression estimates from two years; a change of population, "
            "catalogue or prices calls for new estimates.",
        ]

    def warnings(self) -> list[str]:
        """Pooled groups, suppressed cells, k chosen by the fallback rule, unused years..."""
        a = self.analysis
        out = []
        pooled = self.pooled()
        if pooled:
            out.append(f"{len(pooled)} pooling step{'s' if len(pooled) > 1 else ''} merged small "
                       f"bands, diseases or groups (fewer than {self.min_cell_size} persons); see "
                       "the disclosure section.")
        grid = a.standards.standards_table()
        if grid["suppressed"].any():
            out.append(f"{int(grid['suppressed'].sum())} standards cells hold fewer than "
                       f"{self.min_cell_size} persons: their counts and means are suppressed.")
        if grid["floored"].any():
            out.append(f"{int(grid['floored'].sum())} standards are negative by the model and "
                       "paid 0.")
        for grouping in (a.age_groups, a.disease_groups):
            fallback = [s for s, r in grouping.rule.items() if r == cap.RULE_ELBOW]
            if fallback:
                what = "age" if grouping.dimension == "age_band" else "disease"
                out.append(f"The Calinski-Harabasz index has no first peak for the {what} groups "
                           f"of {narrative.join(fallback)}: the number of groups comes from the "
                           "elbow rule; check it against what a bureau can administer.")
        unused = [y for y in a.cells.years if y not in self.years]
        if unused:
            out.append(f"Year{'s' if len(unused) > 1 else ''} {narrative.join(map(str, unused))} "
                       f"{'are' if len(unused) > 1 else 'is'} in the data but not used (the "
                       f"weighting uses {self.years[0]} and {self.years[1]}).")
        skipped = [n for n in a.standards.notes if "no standards" in n]
        out += skipped
        if not a.standards.include_los and not a.screening.drop_los:
            out.append("Length of stay is significant but left out of the payment model, as set.")
        return out

    def glue_values(self) -> dict[str, Any]:
        """Values the book page glues (prefix ``gz_``)."""
        a = self.analysis
        base, target = self.years
        values: dict[str, Any] = {
            "gz_rows": int(a.cells.rows), "gz_base_year": int(base), "gz_target_year": int(target),
            "gz_persons_total": int(a.standards.fit["n_obs"].sum()),
            "gz_screening_r2_min": float(a.screening.fit["r_squared"].min()),
            "gz_screening_r2_max": float(a.screening.fit["r_squared"].max()),
            "gz_min_cell_size": self.min_cell_size, "gz_n_pooled": len(self.pooled())}
        for r in a.screening.fit.itertuples():
            values[f"gz_los_p_{_slug(r.scheme)}_{r.year}"] = float(r.los_p_value)
        for r in a.standards.fit.itertuples():
            values[f"gz_r2_{_slug(r.scheme)}_{r.year}"] = float(r.r_squared)
        for grouping, what in ((a.age_groups, "age"), (a.disease_groups, "disease")):
            for s in grouping.schemes:
                values[f"gz_k_{what}_{_slug(s)}"] = grouping.k(s)
        simulation = a.simulation.table()
        for omega, name in ((0.0, "zero"), (0.5, "half"), (1.0, "one")):
            rows = simulation[np.isclose(simulation["omega"], omega)].set_index("scheme")
            if len(rows):
                values[f"gz_savings_pct_{name}"] = float(rows.loc["total", "savings_pct"])
                for s in a.standards.schemes:
                    values[f"gz_savings_pct_{_slug(s)}_{name}"] = float(rows.loc[s,
                                                                                  "savings_pct"])
        fit = a.fit.table()
        oos = fit[(fit["kind"] == "out-of-sample") & (fit["evaluated_on"] == target)]
        if len(oos):
            total = oos[oos["scheme"] == "total"] if (oos["scheme"] == "total").any() else oos
            values["gz_oos_ratio"] = float(total["predictive_ratio"].iloc[0])
        ratios = a.predictive_ratios.table()
        tenths = ratios[(ratios["dimension"] == "predicted_tenth") & (ratios["omega"] == 1.0)
                        & ~ratios["suppressed"]]
        if len(tenths):
            values["gz_tenth_ratio_min"] = float(tenths["ratio"].min())
            values["gz_tenth_ratio_max"] = float(tenths["ratio"].max())
        grid = a.standards.standards_table()
        values |= {"gz_n_cells": len(grid), "gz_n_suppressed": int(grid["suppressed"].sum()),
                   "gz_n_floored": int(grid["floored"].sum())}
        if self.book is not None:
            values |= self._book_glue()
        return values

    def _book_glue(self) -> dict[str, Any]:
        book = self.book
        covered = book.coefficients["covers_truth"]
        ratio = float(book.se_ratio["ratio"].median())
        comparisons = book.groupings
        gender = book.gender.groupby("scheme")["women_higher"].agg(["sum", "size"])
        low, high = gz_text.paper_screening_r2()
        shares = published.load("gz_text_figures").query("quantity == 'no_ocsd_share_pct'")
        bands = published.load("gz_table3_4_age_bands")
        return {
            **{f"gz_paper_no_ocsd_pct_{_slug(r.scheme)}": float(r.value)
               for r in shares.itertuples()},
            "gz_paper_persons_millions": float(bands["persons"].sum()) / 1e6,
            "gz_n_covered": int(covered.sum()), "gz_n_intervals": int(covered.notna().sum()),
            "gz_se_ratio_full_city": ratio, "gz_half_width_factor": 1 / ratio,
            "gz_variance_factor": 1 / ratio**2,
            "gz_paper_savings_pct_printed": book.savings["printed_pct"],
            "gz_paper_savings_pct_recomputed": book.savings["recomputed_pct"],
            "gz_paper_savings_pct_largest": book.savings["largest_by_rounding_pct"],
            "gz_paper_savings_bn": book.savings["savings_bn"],
            "gz_paper_actual_bn": book.savings["actual_bn"],
            "gz_truth_savings_pct_half": book.truth_savings_pct,
            "gz_paper_los_p_text": book.los_p["text"], "gz_paper_los_p_table": book.los_p["table"],
            "gz_paper_r2_min": low, "gz_paper_r2_max": high,
            "gz_n_first_peak_found": int(comparisons["first_peak_found"].sum()),
            "gz_n_published_optimal": int(comparisons["published_is_optimal"].sum()),
            "gz_n_comparisons": len(comparisons),
            **{f"gz_paper_women_higher_{_slug(s)}": int(r["sum"]) for s, r in gender.iterrows()},
            **{f"gz_paper_gender_cells_{_slug(s)}": int(r["size"]) for s, r in gender.iterrows()},
        }


def _slug(text: Any) -> str:
    """A glue-name-safe form of a scheme label."""
    return "".join(c if c.isalnum() else "_" for c in str(text)).strip("_") or "scheme"


def run(prepared: GZPrepared) -> GZResult:
    """Every step of the method on the prepared cell statistics (see the module docstring)."""
    s = prepared.settings
    cells = prepared.cells
    # a number of groups found by the rule is found again (so the result names the rule)
    k_age = (None if s.source("k_age") == SOURCE_DATA
             else _per_scheme(s["k_age"], "k_age", cells.schemes))
    k_disease = (None if s.source("k_disease") == SOURCE_DATA
                 else _per_scheme(s["k_disease"], "k_disease", cells.schemes))
    analysis = cap.analyse_capitation(
        cells, base_year=s["base_year"], target_year=s["target_year"], groups=s["groups"],
        weighting=s["weighting"], k_age=k_age, k_disease=k_disease, k_max=s["k_max"],
        include_los=s["los"] == "keep", omegas=cap.omega_grid(float(s["omega_step"])),
        min_cell_size=s["min_cell_size"])
    book = _book(analysis, float(prepared.data.get("scale", 1.0))) if prepared.book_data else None
    return GZResult(prepared=prepared, analysis=analysis, book=book)


CHAPTER = Chapter(
    name=NAME,
    title="GZ: risk-adjusted outpatient capitation, from settlement records to payment standards",
    notebook="gz_capitation.py",
    study="gz",
    contract=CONTRACT,
    parameters=PARAMETERS,
    prepare=prepare,
    run=run,
    report_title="Risk-adjusted capitation: payment standards from person-year records",
)

