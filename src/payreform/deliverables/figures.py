"""Figure labels in another language: every text of a drawn figure found in the term list is replaced.

Figures are drawn in English by the plotting functions; :func:`translate_figure` walks a figure's
titles, axis labels, tick labels, legend entries and free texts and replaces each text that the
shared term list knows (``data/terms.csv``), so that one list serves tables, figures and the
glossary. Texts it does not know (a user's column names) stay as they are. Chinese characters need
a CJK font (:func:`payreform.plots.chinese_font`).
"""

from __future__ import annotations

from matplotlib.figure import Figure

from payreform.deliverables.terms import translation


def _texts(fig: Figure):
    for ax in fig.axes:
        yield ax.title
        yield ax.xaxis.label
        yield ax.yaxis.label
        yield from ax.get_xticklabels()
        yield from ax.get_yticklabels()
        yield from ax.texts
        legend = ax.get_legend()
        if legend is not None:
            yield from legend.get_texts()
    if fig._suptitle is not None:  # noqa: SLF001 - matplotlib keeps the suptitle here
        yield fig._suptitle
    yield from fig.texts


def needs_cjk(text: str) -> bool:
    """True if ``text`` holds characters outside Latin scripts (Chinese column names, translations).

    Examples
    --------
    >>> needs_cjk("门诊人次"), needs_cjk("visits (95% CI)")
    (True, False)
    """
    return any(ord(c) > 0x2FFF for c in text)


def translate_figure(fig: Figure, language: str) -> int:
    """Replace every known text of ``fig`` by its ``language`` version; return how many were replaced.

    Every text holding Chinese characters (translated, or a user's column name) is then given the
    installed CJK font as a fallback, so that no glyph is drawn as a box.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("residuals")
    >>> translate_figure(fig, "zh"), ax.get_title()
    (1, '残差')
    >>> plt.close(fig)
    """
    from payreform.plots import chinese_font

    words = translation(language) if language != "en" else {}
    replaced = 0
    cjk = chinese_font()
    for text in _texts(fig):
        current = text.get_text()
        if current in words and words[current] != current:
            text.set_text(words[current])
            replaced += 1
        if cjk is not None and needs_cjk(text.get_text()):
            text.set_fontfamily(["DejaVu Sans", cjk])
    return replaced
