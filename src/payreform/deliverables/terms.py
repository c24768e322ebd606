"""One list of terms in English and Chinese, shared by the deliverables, the figures and the glossary.

``data/terms.csv`` holds one row per term (``key``, ``en``, ``zh``). Table headers, term names,
settings sources and figure labels are translated through it, so a Chinese report uses the
book's Chinese terms (a test checks the glossary against it).
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from payreform.errors import check_choice

LANGUAGES = ("en", "zh")
"""Languages of the deliverables."""


@lru_cache(maxsize=1)
def term_table() -> pd.DataFrame:
    """The term list (``key``, ``en``, ``zh``), read once."""
    from payreform.published import data_directory

    return pd.read_csv(data_directory().parent / "terms.csv", dtype=str, keep_default_na=False)


def label(key: str, language: str = "en") -> str:
    """The term ``key`` in ``language``; unknown keys come back unchanged (a user's column name).

    Examples
    --------
    >>> label("p_value"), label("p_value", "zh"), label("门诊人次", "zh")
    ('p-value', 'P 值', '门诊人次')
    """
    check_choice("language", language, LANGUAGES)
    return _labels(language).get(key, str(key))


@lru_cache(maxsize=len(LANGUAGES))
def _labels(language: str) -> dict[str, str]:
    """Key -> term in ``language``, built once per language."""
    table = term_table()
    return dict(zip(table["key"], table[language].astype(str), strict=True))


def translation(language: str) -> dict[str, str]:
    """English text -> text in ``language`` for every term (for figure labels).

    Examples
    --------
    >>> translation("zh")["residuals"]
    '残差'
    """
    check_choice("language", language, LANGUAGES)
    table = term_table()
    return dict(zip(table["en"], table[language], strict=True))
