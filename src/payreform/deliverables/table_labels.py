"""Table headers in another language: notebooks show DataFrames and Stylers with translated labels.

A chapter notebook calls :func:`label_tables` once, in its setup cell, with its ``language``. In
Chinese it registers an IPython ``text/html`` formatter for :class:`pandas.DataFrame` and
:class:`pandas.io.formats.style.Styler` that renders the table as usual (``_repr_html_``) and then
replaces the text of every header cell (``<th>``) that the shared term list (``data/terms.csv``)
knows: column labels at every level, index (row) labels, and the names of the index and columns.
Data cells (``<td>``) are never touched, nor are the objects displayed: only the rendered HTML
changes, so the numbers a notebook computes with, and the English edition, stay as they are.

A header is looked up by :func:`header_label`: first as a key of the term list (``bg_p_value``),
then as its English text (``p-value``, ``retained balance``), then through a few pattern rules
for headers built from a year or a number (``2018: treated mean (SD)``, ``NW lag 3``,
``p (did2018)``, ``46 months``), whose pieces are translated in turn. Row labels are data values
(outcomes, terms, schemes); they are translated only when they are in the term list, so a
user's own names (``门诊人次``, ``district 3``) come through unchanged. Statistical symbols
(:data:`SYMBOLS`: F, df, n ...) are kept in every language. A budget's ``balance`` (结余) is
found through its English text (row ``budget_balance``): the key ``balance`` is left free because
it names the covariate-balance table of the difference-in-differences chapter, whose heading in
the Word report is looked up by that key.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import pandas as pd

from payreform.deliverables.terms import LANGUAGES, term_table
from payreform.errors import check_choice

SYMBOLS = re.compile(r"F|df|n|k|t|z|F\(\d+, \d+\)|did\d+|event-?\d+")
"""Headers kept as they are in every language: statistical symbols, and the names of the DID
chapter's terms inside a header (``p (did2018)``)."""

_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_ANY_PAIR = "{0}：{1}"
_CELL = re.compile(r"(<th\b[^>]*>)(.*?)(</th>)", re.S)

# (pattern, Chinese template): the template's {0}, {1} ... are the pattern's groups, translated.
# The last rule, any "a: b", applies only when one of its two pieces is known.
_ZH_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), t) for p, t in (
    (r"NW lag (\d+)", "Newey-West 滞后 {0} 阶"),
    (r"(\d+) months", "{0} 个月"),
    (r"(\d+) quarters", "{0} 个季度"),
    (r"(\d+) years", "{0} 年"),
    (r"treated (\d{4}) vs (\d{4})", "处理组 {0} 年与 {1} 年比较"),
    (r"breakdown M̄, reference (\d{4})", "失效临界值 M̄（以 {0} 年为参照）"),
    (r"staff pay, share (.+)", "医务人员薪酬（分配比例 {0}）"),
    (r"p \((.+)\)", "P 值（{0}）"),
    (r"(.+) \(planted\)", "{0}（设定真值）"),
    (r"(.+)_width_ratio", "{0}：区间宽度之比"),
    (r"(\d{4}): (.+)", "{0} 年：{1}"),
    (r"(.+?): (.+)", _ANY_PAIR),
))


@lru_cache(maxsize=len(LANGUAGES))
def _terms(language: str) -> dict[str, str]:
    """Header text -> label: the term list's English texts, then its keys (keys win)."""
    table = term_table()
    found = dict(zip(table["en"], table[language], strict=True))
    found.update(zip(table["key"], table[language], strict=True))
    return found


def _translated(text: str, language: str) -> tuple[str, bool]:
    """``text`` in ``language`` (not English), and whether every word of it was known: a term, a
    symbol, a number, or a pattern whose pieces are all known (the completeness test asks this)."""
    stripped = text.strip()
    terms = _terms(language)
    if stripped in terms:
        return terms[stripped], True
    if SYMBOLS.fullmatch(stripped) or _NUMBER.fullmatch(stripped):
        return text, True
    for pattern, template in _ZH_PATTERNS if language == "zh" else ():
        match = pattern.fullmatch(stripped)
        if match:
            pieces = [_translated(g, language) for g in match.groups()]
            labels = [piece for piece, _ in pieces]
            if template != _ANY_PAIR or labels != list(match.groups()):
                return template.format(*labels), all(known for _, known in pieces)
    return text, False


def header_label(text: str, language: str = "en") -> str:
    """The table header ``text`` in ``language``: by the term list (key, then English text), else by
    a pattern rule for headers built from a year or number; else unchanged (a user's own name, a
    statistical symbol). In English every header stays as it is.

    Examples
    --------
    >>> header_label("bg_p_value", "zh"), header_label("p-value", "zh"), header_label("门诊人次", "zh")
    ('Breusch-Godfrey 检验 P 值', 'P 值', '门诊人次')
    >>> header_label("2009: treated mean (SD)", "zh"), header_label("NW lag 12", "zh")
    ('2009 年：处理组均值（标准差）', 'Newey-West 滞后 12 阶')
    >>> header_label("F", "zh"), header_label("bg_p_value", "en")
    ('F', 'bg_p_value')
    """
    check_choice("language", language, LANGUAGES)
    return text if language == "en" else _translated(text, language)[0]


def relabel_html(rendered: str, language: str) -> str:
    """Every header cell (``<th>``) of a rendered table in ``language``; data cells untouched.

    Examples
    --------
    >>> frame = pd.DataFrame({"estimate": [1.5]}, index=pd.Index(["beta2"], name="term"))
    >>> shown = relabel_html(frame.to_html(), "zh")
    >>> [c for c in ("估计值", "β2 水平变化", "项", "<td>1.5</td>") if c in shown]
    ['估计值', 'β2 水平变化', '项', '<td>1.5</td>']
    """
    if language == "en":
        return rendered

    def replace(match: re.Match[str]) -> str:
        text = html.unescape(match.group(2))
        new = header_label(text, language)
        if new == text:
            return match.group(0)
        return match.group(1) + html.escape(new, quote=False) + match.group(3)

    return _CELL.sub(replace, rendered)


class _HeaderPrinter:
    """IPython's ``text/html`` printer of a DataFrame or Styler with headers in ``language``."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, table: pd.DataFrame) -> str | None:
        rendered = table._repr_html_()  # honours pandas' display options, as IPython's default does
        return None if rendered is None else relabel_html(rendered, self.language)


def _table_types() -> tuple[type, ...]:
    from pandas.io.formats.style import Styler

    return (pd.DataFrame, Styler)


def label_tables(language: str) -> bool:
    """Show every DataFrame and Styler that IPython displays with headers in ``language``.

    Registers an HTML formatter with the running IPython (Jupyter) kernel: column labels at every
    level, row labels and index names known to the term list are translated in the rendered
    table (see :func:`header_label`); values and the objects themselves are left alone. In
    English nothing is registered (a formatter of an earlier call is removed). Outside IPython
    (a script, a test) it does nothing.

    Parameters
    ----------
    language : str
        ``"en"`` or ``"zh"``, a chapter's ``language`` parameter.

    Returns
    -------
    bool
        True if a formatter is now registered.

    Examples
    --------
    >>> label_tables("zh")  # not in IPython here: nothing to register
    False
    """
    check_choice("language", language, LANGUAGES)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return False
    shell = get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    for kind in _table_types():
        if isinstance(formatter.type_printers.get(kind), _HeaderPrinter):
            formatter.pop(kind)
        if language != "en":
            formatter.for_type(kind, _HeaderPrinter(language))
    return language != "en"


