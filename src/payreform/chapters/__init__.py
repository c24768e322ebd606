"""The chapters an analyst can run on their own data, one runner module per chapter.

Each runner (``youxi_itsa``, ``sanming_itsa``, ``sanming_budget``, ``ccmc_did``,
``gz_capitation``) defines its parameters, data contract, ``prepare`` and ``run`` and registers
a :class:`~payreform.chapters.base.Chapter` here. ``payreform chapters`` lists them.
"""

from __future__ import annotations

from payreform.chapters.base import Chapter, Parameter, PreparedInput, Settings
from payreform.errors import ParameterError, closest

CHAPTERS: dict[str, Chapter] = {}
"""Chapter name -> chapter, in the book's order."""


def register(chapter: Chapter) -> Chapter:
    """Add a runner's chapter to :data:`CHAPTERS` (called by each runner module)."""
    CHAPTERS[chapter.name] = chapter
    return chapter


def get(name: str):
    """The chapter called ``name``; unknown names raise :class:`ParameterError` with a suggestion."""
    if name not in CHAPTERS:
        raise ParameterError(f"no chapter '{name}'{closest(name, CHAPTERS)}; available: {', '.join(CHAPTERS)}")
    return CHAPTERS[name]


__all__ = ["CHAPTERS", "Chapter", "Parameter", "PreparedInput", "Settings", "get", "register"]

from payreform.chapters import (  # noqa: E402 - the runners register below
    ccmc_did,
    gz_capitation,
    sanming_budget,
    sanming_itsa,
    youxi_itsa,
)

for _module in (youxi_itsa, sanming_itsa, sanming_budget, ccmc_did, gz_capitation):
    CHAPTERS[_module.CHAPTER.name] = _module.CHAPTER
