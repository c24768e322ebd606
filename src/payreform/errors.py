"""Exceptions a user can cause.

Every message is one line that names the column, row or parameter at fault and says what
to do about it. The command line prints the message alone (no traceback) and exits with
status 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PayreformError(ValueError):
    """Base class of the errors caused by input data or parameters."""


class ContractError(PayreformError):
    """The data do not satisfy a chapter's data contract."""


class ParameterError(PayreformError):
    """A parameter has a value the method cannot use."""


def closest(name: str, candidates: Iterable[str]) -> str:
    """Return a ``" (did you mean 'x'?)"`` hint for a misspelled name, or ``""``.

    Examples
    --------
    >>> closest("hospitalisations", ["month", "hospitalizations"])
    " (did you mean 'hospitalizations'?)"
    """
    candidates = [str(c) for c in candidates]
    lowered = {c.lower().strip(): c for c in candidates}
    key = str(name).lower().strip()
    if key in lowered and lowered[key] != name:
        return f" (did you mean '{lowered[key]}'?)"
    match = difflib.get_close_matches(key, list(lowered), n=1, cutoff=0.6)
    return f" (did you mean '{lowered[match[0]]}'?)" if match else ""


def check_choice(parameter: str, value: object, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise :class:`ParameterError`.

    Examples
    --------
    >>> check_choice("impact", "slope", ["level", "slope", "level_and_slope"])
    'slope'
    """
    choices = list(choices)
    if value not in choices:
        raise ParameterError(
            f"parameter '{parameter}' is {value!r}; use one of {', '.join(choices)}"
            + closest(str(value), choices)
        )
    return str(value)
