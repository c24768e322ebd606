"""Sentences chosen by the numbers they describe.

Reports and pages interpret results: a test rejects or not, an effect is significant or not,
it points up or down. The helpers here choose those words from the computed values, so that a
sentence can never contradict its number. Chapter runners build their summaries from them.
"""

from __future__ import annotations

import math

ALPHA = 0.05
"""Significance level used in the prose (two-sided tests)."""


def fmt(value: float, digits: int = 2) -> str:
    """A number for prose: thousands separators, fixed decimals, a real minus sign.

    Examples
    --------
    >>> fmt(-2470.25, 1), fmt(0.5, 0), fmt(float("nan"))
    ('−2,470.2', '0', 'n/a')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    text = f"{value:,.{digits}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")
    return text.replace("-", "−")


def fmt_percent(share: float, digits: int = 1) -> str:
    """A share (0.221) as a signed percentage ('+22.1%').

    Examples
    --------
    >>> fmt_percent(-0.2212), fmt_percent(0.05, 0)
    ('−22.1%', '+5%')
    """
    text = fmt(100 * share, digits)
    return text + "%" if text.startswith("−") or text in {"0", "n/a"} else "+" + text + "%"


def fmt_p(p: float) -> str:
    """A p-value as written in reports.

    Examples
    --------
    >>> fmt_p(0.00001), fmt_p(0.0412), fmt_p(0.5)
    ('p < 0.001', 'p = 0.041', 'p = 0.50')
    """
    if p is None or not math.isfinite(p):
        return "p not available"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def fmt_interval(low: float, high: float, digits: int = 2, percent: bool = False) -> str:
    """A 95% interval for prose.

    Examples
    --------
    >>> fmt_interval(-0.3, -0.12, percent=True)
    '95% CI −30.0% to −12.0%'
    """
    if percent:
        return f"95% CI {fmt(100 * low, 1)}% to {fmt(100 * high, 1)}%"
    return f"95% CI {fmt(low, digits)} to {fmt(high, digits)}"


def significant(p: float, alpha: float = ALPHA) -> bool:
    """True if ``p < alpha`` (False for a missing p-value)."""
    return p is not None and math.isfinite(p) and p < alpha


def significance(p: float, alpha: float = ALPHA) -> str:
    """'statistically significant at the 5% level (p = 0.003)' or 'not statistically significant (p = 0.41)'.

    Examples
    --------
    >>> significance(0.003)
    'statistically significant at the 5% level (p = 0.003)'
    >>> significance(0.41)
    'not statistically significant at the 5% level (p = 0.41)'
    """
    level = f"{100 * alpha:g}%"
    if significant(p, alpha):
        return f"statistically significant at the {level} level ({fmt_p(p)})"
    return f"not statistically significant at the {level} level ({fmt_p(p)})"


def direction(value: float, up: str = "an increase", down: str = "a decrease", flat: str = "no change") -> str:
    """The word for the sign of ``value``.

    Examples
    --------
    >>> direction(-3.0), direction(2.0, "rose", "fell"), direction(0.0)
    ('a decrease', 'rose', 'no change')
    """
    if value > 0:
        return up
    if value < 0:
        return down
    return flat


def interval_excludes_zero(low: float, high: float) -> bool:
    """True if the interval lies wholly on one side of zero."""
    return (low > 0 and high > 0) or (low < 0 and high < 0)


def join(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'.

    Examples
    --------
    >>> join(["a"]), join(["a", "b", "c"])
    ('a', 'a, b and c')
    """
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
