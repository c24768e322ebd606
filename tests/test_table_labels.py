"""Tables shown in a Chinese notebook have Chinese headers (fast lane: a few seconds).

`label_tables` registers an IPython HTML formatter; here it is given a bare IPython display
formatter in place of a kernel, and what a notebook would show is compared with pandas' own HTML:
the header cells change, the data cells do not. The completeness tests run every chapter on its
book data and require a Chinese label for every header of its tables, and for every header the
Chinese edition showed in English before the headers were translated.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import re
from types import SimpleNamespace

import IPython
import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter

from payreform.deliverables import header_label, label_tables, relabel_html, term_table
from payreform.deliverables.table_labels import _translated

CHAPTERS = ["youxi_itsa", "sanming_itsa", "sanming_budget", "ccmc_did", "gz_capitation"]
TH = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)
TD = re.compile(r"<td\b[^>]*>.*?</td>", re.S)


def headers(rendered: str) -> list[str]:
    return [html.unescape(t).strip() for t in TH.findall(rendered)]


@pytest.fixture
def shell(monkeypatch) -> DisplayFormatter:
    """A stand-in for a running kernel: IPython's display formatter, as a notebook has it."""
    formatter = DisplayFormatter()
    monkeypatch.setattr(IPython, "get_ipython", lambda: SimpleNamespace(display_formatter=formatter))
    return formatter


def shown(formatter: DisplayFormatter, table) -> str:
    data, _ = formatter.format(table)
    return data["text/html"]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"estimate": [-0.0123, 4.5], "bg_p_value": [0.25, 0.0301], "my_column": ["a", "beta2"]},
                        index=pd.Index(["beta2", "beta3"], name="term"))


def test_dataframe_headers_in_chinese_and_values_unchanged(shell, frame):
    before = frame.copy()
    assert label_tables("zh") is True
    out = shown(shell, frame)
    assert headers(out) == ["", "估计值", "Breusch-Godfrey 检验 P 值", "my_column", "项", "", "", "",
                            "β2 水平变化", "β3 斜率变化"]
    assert TD.findall(out) == TD.findall(frame._repr_html_())  # every value as pandas shows it
    assert "<td>beta2</td>" in out  # a value equal to a term stays a value
    pd.testing.assert_frame_equal(frame, before)  # the object itself is untouched


def test_styler_headers_in_chinese_and_values_unchanged(shell, frame):
    styler = frame.style.format(precision=3).hide(axis="index")
    label_tables("zh")
    out = shown(shell, styler)
    assert [h for h in headers(out) if h] == ["估计值", "Breusch-Godfrey 检验 P 值", "my_column"]
    assert TD.findall(out) == TD.findall(styler.to_html())
    assert ">-0.012<" in out and ">0.030<" in out  # the Styler's own formatting
    assert list(styler.data.columns) == ["estimate", "bg_p_value", "my_column"]


def test_multiindex_columns_and_names(shell):
    columns = pd.MultiIndex.from_tuples([("estimate", 2023), ("estimate", 2024), ("p_value", 2024)],
                                        names=[None, "year"])
    index = pd.MultiIndex.from_tuples([("UEBHI", "age"), ("URRBHI", "district 3")], names=["scheme", "term"])
    table = pd.DataFrame([[1.0, 2.0, 0.5], [3.0, 4.0, 0.01]], index=index, columns=columns)
    label_tables("zh")
    for out in (shown(shell, table), shown(shell, table.style.format(precision=2))):
        found = headers(out)
        for expected in ("估计值", "P 值", "年份", "险种", "项", "职工医保", "城乡居民医保", "年龄",
                         "2023", "2024", "district 3"):  # a user's own label stays
            assert expected in found, (expected, found)
        assert not {"estimate", "p_value", "year", "scheme", "term", "UEBHI", "age"} & set(found)


@pytest.mark.parametrize("header, chinese", [
    ("2009: treated mean (SD)", "2009 年：处理组均值（标准差）"),
    ("2031: control mean (SD)", "2031 年：对照组均值（标准差）"),
    ("2031: p", "2031 年：P 值"),
    ("treated 2031 vs 2009: difference", "处理组 2031 年与 2009 年比较：差值"),
    ("NW lag 11", "Newey-West 滞后 11 阶"),
    ("p (did2031)", "P 值（did2031）"),
    ("p (joint)", "P 值（联合检验）"),
    ("breakdown M̄, reference 2009", "失效临界值 M̄（以 2009 年为参照）"),
    ("60 months", "60 个月"),
    ("staff pay, share 0.25", "医务人员薪酬（分配比例 0.25）"),
    ("visits (planted)", "visits（设定真值）"),
    ("hospitalizations (planted)", "住院人次（设定真值）"),
    ("percent change: 95% CI low", "变化百分比 95% 置信区间下限"),  # a term, not the pattern
])
def test_pattern_headers_with_other_years(header, chinese):
    assert header_label(header, "zh") == chinese


@pytest.mark.parametrize("header", ["F", "df", "F(3, 41)", "门诊人次", "district 3", "visits: mine", "2019", ""])
def test_symbols_and_own_names_are_kept(header):
    assert header_label(header, "zh") == header


def test_english_registers_nothing(shell, frame):
    assert label_tables("en") is False
    assert not shell.formatters["text/html"].type_printers
    assert shown(shell, frame) == frame._repr_html_()
    label_tables("zh")
    label_tables("en")  # back to English: the Chinese formatter goes
    assert shown(shell, frame) == frame._repr_html_()
    assert relabel_html(frame._repr_html_(), "en") == frame._repr_html_()
    assert header_label("bg_p_value", "en") == "bg_p_value"


def test_outside_ipython_nothing_happens(frame, capsys):
    assert IPython.get_ipython() is None
    assert label_tables("zh") is False
    assert capsys.readouterr() == ("", "")


def test_term_list_reads_one_way():
    """Keys and English texts are unique, every row has Chinese, and a text that is one row's key and
    another's English text means the same (so a header's label does not depend on the lookup order)."""
    terms = term_table()
    assert terms["key"].is_unique and terms["en"].is_unique
    assert (terms["zh"].str.strip() != "").all() and (terms["key"].str.strip() == terms["key"]).all()
    by_english = dict(zip(terms["en"], terms["zh"], strict=True))
    clashes = [(k, z, by_english[k]) for k, z in zip(terms["key"], terms["zh"], strict=True)
               if k in by_english and by_english[k] != z]
    assert not clashes


def _labelled(header: str) -> bool:
    """Every word of the header is known: a term, a symbol, a number, or a pattern of known pieces."""
    return _translated(header, "zh")[1]


@pytest.mark.parametrize("header, labelled", [
    ("bg_p_value", True), ("F(2, 527)", True), ("2031", True), ("p (did2031)", True),
    ("treated 2031 vs 2009: p", True), ("2031: my_variable", False), ("visits (planted)", False),
    ("my_column", False),
])
def test_a_pattern_with_an_unknown_piece_is_not_complete(header, labelled):
    assert _labelled(header) is labelled


@pytest.fixture(scope="module", params=CHAPTERS)
def chapter_tables(request) -> tuple[str, dict[str, pd.DataFrame]]:
    """Every table of one chapter's run on its book data, with the book-only comparisons."""
    chapter = importlib.import_module(f"payreform.chapters.{request.param}")
    result = chapter.run(chapter.prepare())
    tables = dict(result.tables())
    book = getattr(result, "book", None)
    if dataclasses.is_dataclass(book):
        tables |= {f"book.{f.name}": getattr(book, f.name) for f in dataclasses.fields(book)
                   if isinstance(getattr(book, f.name), pd.DataFrame)}
    return request.param, tables


def test_every_header_of_a_chapter_has_a_chinese_label(chapter_tables):
    name, tables = chapter_tables
    assert len(tables) >= 5
    missing = {}
    for table_name, table in tables.items():
        found = [str(v) for level in range(table.columns.nlevels) for v in table.columns.get_level_values(level)]
        found += [str(n) for n in [*table.columns.names, *table.index.names] if n is not None]
        for header in found:
            if not _labelled(header):
                missing.setdefault(header, []).append(table_name)
    assert not missing, f"{name}: headers without a Chinese label in data/terms.csv: {missing}"


BOOK_HEADERS = [
    # Every table header of the Chinese edition (an executed build) that was shown in English before
    # the headers were translated; the appendix's first ones, the rest the chapters'.
    "coverage", "mean_std_error", "sd_estimate", "se_ratio", "mc_error", "n", "rho", "coverage_goal",
    "width_vs_oracle", "width_goal", "closest_to_nominal", "seconds", "measure", "payreform_ms",
    "statsmodels_formula_ms", "ratio", "repeat", "pyfixest_ms", "max_coef_difference", "seeds",
    "outpatient_emergency_visits_width_ratio", "hospitalizations_width_ratio",
    "cost_per_outpatient_visit_width_ratio", "cost_per_hospitalization_width_ratio", "iterations",
    "coverage_all", "coverage_beta3", "median_se_vs_spread", "median_se_vs_table4", "groups", "first period",
    "last period", "frequency", "periods", "before the intervention", "from the intervention on",
    "intervention", "seasonal adjustment", "Newey-West lag", "mean", "min", "max", "hospital",
    "medical_expenditure", "outpatient_volume", "inpatient_volume", "community", "overall",
    "employee_total_100m", "resident_total_100m", "employee_balance_100m", "resident_balance_100m",
    "balance_reward_100m", "balance_rate_pct", "recomputed_balance_rate", "institution", "group", "table4",
    "table4_se", "from_totals", "gap_in_se", "truth", "95% CI", "paper 95% CI", "covers truth",
    "bg_statistic", "bg_p_value", "durbin_watson", "r_squared", "hac_lags", "se_over_spread", "coding",
    "se_beta2", "beta2_converted", "se_beta2_converted", "series", "effect", "placebo", "beta2_p",
    "beta3_p", "seasonal", "none", "ratio_to_moving_average", "season_dummies", "printed_p",
    "p_from_estimate", "p_low", "p_high", "flagged", "text_estimate", "text_p", "table_estimate",
    "table_p", "spending", "population", "premium", "population_budget", "assessment_passed", "rule",
    "budget", "balance", "overspending", "insurer_pays", "coalition_bears", "staff_pay", "other_uses",
    "budget_change", "spending_change", "balance_change", "retained_balance_change",
    "overspending_change", "coalition_bears_change", "insurer_pays_change", "staff_pay_change",
    "net_change", "Sanming IMPM", "Other regions", "spending saved", "change in later budgets",
    "change in retained balance", "change in over-spending borne by the coalition",
    "change in staff pay", "change in what the insurer pays",
    "net gain of the coalition (balance − over-spending borne)", "staff pay, share 0",
    "staff pay, share 1", "retained balance", "saving", "budget_change_later", "count", "std", "25%",
    "50%", "75%", "outpatient_emergency_visits", "hospitalizations", "cost_per_outpatient_visit",
    "cost_per_hospitalization", "outpatient_emergency_visits (planted)", "hospitalizations (planted)",
    "cost_per_outpatient_visit (planted)", "cost_per_hospitalization (planted)", "bg_order",
    "dispersion", "OLS", "NW lag 0", "NW lag 1", "NW lag 2", "NW lag 3", "NW lag 4", "NW lag 5",
    "NW lag 6", "newey_west", "prais_winsten", "reml", "reml_satterthwaite", "arima", "calibrated",
    "beta2_se", "beta3_se", "ols_newey_west_estimate", "ols_newey_west_p", "quasipoisson_estimate",
    "quasipoisson_p", "same_conclusion", "indicator", "years", "percentages", "published_chi2",
    "implied_n_per_group", "n_low", "n_high", "ignored (noise-free)", "modelled (noise-free)",
    "ignored (noisy)", "modelled (noisy)", "ignored covers truth", "modelled covers truth",
    "BG p (February)", "BG p (moving)", "β3 (February)", "β3 (moving)", "without offset", "with offset",
    "46 months", "24 months", "units", "treated units", "control units", "clusters", "balanced",
    "design", "variable", "2018: treated mean (SD)", "2018: control mean (SD)", "2018: difference",
    "2018: p", "2020: treated mean (SD)", "2020: control mean (SD)", "2020: difference", "2020: p",
    "2022: treated mean (SD)", "2022: control mean (SD)", "2022: difference", "2022: p",
    "treated 2022 vs 2018: difference", "treated 2022 vs 2018: p", "control", "F", "df", "p (joint)",
    "p (did2018)", "p (did2019)", "breakdown M̄", "breakdown M", "breakdown M̄, reference 2019", "target",
    "restriction", "bound", "label", "event_time", "twfe_estimate", "twfe_std_error", "cs_estimate",
    "cs_std_error", "twfe_noise_free", "cs_noise_free", "t each", "p each", "correlation", "F(2, 527)",
    "p joint", "scheme", "persons", "fund_exp", "per_capita", "r2_shapley_share", "UEBHI", "intercept",
    "gender", "age", "ocsd", "inpatient", "los", "URRBHI", "items", "cv", "weighting", "dimension",
    "k_published", "first_peak_found", "adjusted_rand_index", "items_moved", "published_is_optimal",
    "actual", "plus_minus", "payment", "savings", "savings_pct", "total", "level", "standard_low",
    "standard_high", "standards", "omega", "evaluated_on", "kind", "predicted", "predictive_ratio",
    "moved", "estimated standards", "true expected cost", "tenth",
]


def test_every_header_the_chinese_edition_showed_in_english_has_a_label():
    assert len(BOOK_HEADERS) == 273
    missing = [h for h in BOOK_HEADERS if not _labelled(h)]
    assert not missing, f"no Chinese label in data/terms.csv: {missing}"
