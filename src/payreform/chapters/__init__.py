"""The chapters an analyst can run on their own data, one runner module per chapter.

Each runner (``youxi_itsa``, ``sanming_itsa``, ``sanming_budget``, ``ccmc_did``,
``gz_capitation``) defines its parameters, data contract, ``prepare`` and ``run`` and its
:class:`~payreform.chapters.base.Chapter` (``CHAPTER``), listed by name in :data:`RUNNERS`.
``payreform chapters`` lists them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from payreform.chapters.base import Chapter, Parameter, PreparedInput, Settings
from payreform.errors import ParameterError, closest

RUNNERS = {"youxi-itsa": "youxi_itsa", "sanming-itsa": "sanming_itsa", "sanming-budget": "sanming_budget",
           "ccmc-did": "ccmc_did", "gz-capitation": "gz_capitation"}
"""Chapter name -> its runner module in ``payreform.chapters``, in the book's order."""


class _Registry(Mapping[str, Chapter]):
    """The chapters by name; a runner module is imported only when its chapter is asked for (a run
    of one chapter does not load the estimators of the others)."""

    def __getitem__(self, name: str) -> Chapter:
        if name not in RUNNERS:
            raise KeyError(name)
        return importlib.import_module(f"payreform.chapters.{RUNNERS[name]}").CHAPTER

    def __iter__(self) -> Iterator[str]:
        return iter(RUNNERS)

    def __len__(self) -> int:
        return len(RUNNERS)


CHAPTERS: Mapping[str, Chapter] = _Registry()
"""Chapter name -> chapter, in the book's order."""


def get(name: str) -> Chapter:
    """The chapter called ``name``; unknown names raise :class:`ParameterError` with a suggestion.

    Examples
    --------
    >>> get("gz-capitation").notebook
    'gz_capitation.py'
    """
    if name not in RUNNERS:
        raise ParameterError(f"no chapter '{name}'{closest(name, RUNNERS)}; available: {', '.join(RUNNERS)}")
    return CHAPTERS[name]


__all__ = ["CHAPTERS", "RUNNERS", "Chapter", "Parameter", "PreparedInput", "Settings", "get"]
