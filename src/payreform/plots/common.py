"""Shared figure styles, so every chapter's figures look alike.

Functions draw on a Matplotlib ``Axes`` (created if not given) and return the figure; they do
not call ``plt.show()`` or change global settings. Notebooks call :func:`set_theme` once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

COLORS = {
    "observed": "#8c8c8c",
    "adjusted": "#1f4e79",
    "pre": "#1f77b4",
    "post": "#d62728",
    "counterfactual": "#555555",
    "intervention": "#2ca02c",
    "band": "#d62728",
}
FIGSIZE = (7.5, 4.0)


CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
             "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Droid Sans Fallback",
             "Arial Unicode MS")
"""Fonts with Chinese characters, in order of preference (Linux, Windows, macOS)."""


def chinese_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS`, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def set_theme() -> None:
    """Apply the handbook's figure theme (seaborn ``whitegrid``, readable sizes).

    Chinese column names in titles and labels need a font with Chinese characters: the first
    installed font of :data:`CJK_FONTS` is added as a fallback. Without one, Matplotlib warns
    about each missing glyph (install for example Debian's ``fonts-noto-cjk``; ``make`` does so
    when run as root).
    """
    import logging

    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "savefig.bbox": "tight",
                         "axes.titleweight": "bold", "axes.titlesize": 11})
    cjk = chinese_font()
    if cjk is not None:
        plt.rcParams["font.family"] = ["DejaVu Sans", cjk]  # per-glyph fallback to the CJK font
        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # no bold CJK weight: fine


def _axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _x(periods: pd.PeriodIndex) -> np.ndarray:
    return periods.to_timestamp(how="start").to_numpy()


def _grid(n: int, width: float = 11.5, height: float = 3.3) -> tuple[Figure, np.ndarray]:
    columns = 2 if n > 1 else 1
    rows = (n + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(width, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat[:n]


def save(fig: Figure, directory: str | Path, name: str, *, close: bool = False) -> str:
    """Save ``fig`` as ``directory/figures/name.png`` and return the path; ``close`` frees the
    figure afterwards (so that a notebook does not draw it a second time)."""
    folder = Path(directory) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path)
    if close:
        plt.close(fig)
    return str(path)


def saved_image(path: str | Path) -> Any:
    """A saved PNG as an IPython image, shown at the figure's size on screen.

    Showing the file written by :func:`save` (at ``savefig.dpi``) instead of letting the
    notebook draw the figure again (at ``figure.dpi``) halves the time spent on figures, and
    the page shows exactly the file the analyst receives, sharper for the higher resolution.

    Examples
    --------
    >>> import tempfile
    >>> fig, ax = plt.subplots(figsize=(2, 1))
    >>> with plt.rc_context({"figure.dpi": 100, "savefig.dpi": 200, "savefig.bbox": None}):
    ...     image = saved_image(save(fig, tempfile.mkdtemp(), "demo", close=True))
    ...     image.width
    200
    """
    from IPython.display import Image

    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    pixels = int.from_bytes(data[16:20], "big")  # width, from the PNG header (IHDR)
    scale = plt.rcParams["figure.dpi"] / plt.rcParams["savefig.dpi"]
    return Image(data=data, format="png", width=round(pixels * scale))
