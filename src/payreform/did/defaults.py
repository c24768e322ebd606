"""Design choices derived from the panel itself, never from a study's calendar.

A stranger's panel has its own years. The base year, the adoption year, the first post-period
term and the years of the balance table are therefore read from a validated
:class:`~payreform.contracts.PanelData`:

* base year (``year_base``): the first year present;
* adoption year: the adoption-year column's single value when all adopters share one year
  within the data's years; none with a 0/1 treatment column (it does not say when) or with
  several adoption years (staggered adoption, modelled in event time);
* reference year of the interactions (``did_base``): the adoption year (the CCMC study's
  convention: the interactions are measured against the gap in the adoption year);
* first post-period term: ``did<first year after did_base>``, or ``event<first event time after
  event_base>`` (``event0`` with the default ``event_base=-1``) in event time;
* balance years: the first year, the adoption year and the last year present.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from payreform.contracts import PanelData

__all__ = ["DesignDefaults", "adoption_year", "adoption_years_in", "balance_years", "design_defaults",
           "event_times"]


def adoption_years_in(panel: PanelData) -> tuple[int, ...]:
    """Adoption years inside the data's window (later ones count as never treated).

    Examples
    --------
    >>> import pandas as pd
    >>> from payreform.contracts import validate_panel
    >>> df = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3], "year": [2010, 2011] * 3,
    ...                    "adopted": [2011] * 2 + [2030] * 2 + [0] * 2, "y": [1.0, 2, 3, 1, 1, 1]})
    >>> adoption_years_in(validate_panel(df, unit="unit", time="year", outcomes=["y"], first_treated="adopted"))
    (2011,)
    """
    return tuple(y for y in panel.adoption_years if y <= panel.years[-1])


def adoption_year(panel: PanelData) -> int | None:
    """The single adoption year the data carry, or None.

    Examples
    --------
    >>> import pandas as pd
    >>> from payreform.contracts import validate_panel
    >>> df = pd.DataFrame({"unit": [1, 1, 1, 2, 2, 2], "year": [2010, 2011, 2012] * 2,
    ...                    "adopted": [2011] * 3 + [0] * 3, "y": [1.0, 2, 3, 1, 1, 1]})
    >>> adoption_year(validate_panel(df, unit="unit", time="year", outcomes=["y"],
    ...                              first_treated="adopted"))
    2011
    """
    if panel.first_treated is None:
        return None
    adopters = adoption_years_in(panel)
    return adopters[0] if len(adopters) == 1 else None


def event_times(panel: PanelData) -> tuple[int, ...]:
    """Event times ``year - adoption year`` present among the treated rows (empty without
    an adoption-year column).

    Examples
    --------
    >>> import pandas as pd
    >>> from payreform.contracts import validate_panel
    >>> df = pd.DataFrame({"unit": [1, 1, 1, 2, 2, 2], "year": [2010, 2011, 2012] * 2,
    ...                    "adopted": [2011] * 3 + [0] * 3, "y": [1.0, 2, 3, 1, 1, 1]})
    >>> event_times(validate_panel(df, unit="unit", time="year", outcomes=["y"], first_treated="adopted"))
    (-1, 0, 1)
    """
    if "cohort" not in panel.frame:
        return ()
    cohort = panel.frame["cohort"].to_numpy(dtype=float)
    inside = np.isfinite(cohort) & (cohort <= panel.years[-1])
    relative = panel.frame["year"].to_numpy()[inside] - cohort[inside]
    return tuple(sorted({int(k) for k in relative}))


def balance_years(panel: PanelData, adoption: int | None = None) -> tuple[int, ...]:
    """First year, adoption year (when known and present) and last year of the panel.

    Examples
    --------
    >>> import pandas as pd
    >>> from payreform.contracts import validate_panel
    >>> df = pd.DataFrame({"unit": [1] * 4 + [2] * 4, "year": [2001, 2002, 2003, 2004] * 2,
    ...                    "treated": [1] * 4 + [0] * 4, "y": range(8)})
    >>> panel = validate_panel(df, unit="unit", time="year", outcomes=["y"], treated="treated")
    >>> balance_years(panel), balance_years(panel, adoption=2003)
    ((2001, 2004), (2001, 2003, 2004))
    """
    if adoption is None:
        adoption = adoption_year(panel)
    years = {panel.years[0], panel.years[-1]}
    if adoption is not None and adoption in panel.years:
        years.add(int(adoption))
    return tuple(sorted(years))


@dataclass(frozen=True)
class DesignDefaults:
    """The design choices a panel implies (see :func:`design_defaults`).

    Attributes
    ----------
    years
        Years present.
    year_base
        Base year of the year dummies: the first year.
    adoption_year
        The single adoption year in the data, or None.
    did_base
        Reference year of the interactions (common adoption), or None when it must be given.
    event_base
        Reference event time (staggered adoption), or None.
    staggered
        True when the data carry several adoption years (event-time design).
    first_post_term
        The first interaction term after the reference, or None when ``did_base`` is unknown.
    balance_years
        Years of the balance table.
    """

    years: tuple[int, ...]
    year_base: int
    adoption_year: int | None
    did_base: int | None
    event_base: int | None
    staggered: bool
    first_post_term: str | None
    balance_years: tuple[int, ...]

    def diagnostics(self) -> dict:
        """The derived choices as a plain dict (for ``results.json``)."""
        return {"years": list(self.years), "year_base": self.year_base, "adoption_year": self.adoption_year,
                "did_base": self.did_base, "event_base": self.event_base, "staggered": self.staggered,
                "first_post_term": self.first_post_term, "balance_years": list(self.balance_years)}

    def summary(self) -> str:
        """One line naming the derived choices."""
        design = (f"event time (reference {self.event_base})" if self.staggered
                  else f"reference year {self.did_base if self.did_base is not None else 'not known'}")
        return (f"years {self.years[0]}-{self.years[-1]}; year base {self.year_base}; {design}; "
                f"first post-period term {self.first_post_term}; balance years "
                f"{', '.join(map(str, self.balance_years))}")


def design_defaults(panel: PanelData, *, did_base: int | None = None, event_base: int = -1) -> DesignDefaults:
    """Derive the base year, reference, first post-period term and balance years from a panel.

    Parameters
    ----------
    panel
        A validated panel (:func:`payreform.contracts.validate_panel`).
    did_base
        Reference year if the analyst set it; default: the adoption year when the data carry one.
    event_base
        Reference event time of the staggered design.

    Examples
    --------
    >>> import pandas as pd
    >>> from payreform.contracts import validate_panel
    >>> df = pd.DataFrame({"unit": [1] * 4 + [2] * 4 + [3] * 4, "year": [2001, 2002, 2003, 2004] * 3,
    ...                    "adopted": [2003] * 4 + [2002] * 4 + [0] * 4, "y": range(12)})
    >>> panel = validate_panel(df, unit="unit", time="year", outcomes=["y"], first_treated="adopted")
    >>> d = design_defaults(panel)
    >>> d.staggered, d.year_base, d.first_post_term, d.balance_years
    (True, 2001, 'event0', (2001, 2004))
    """
    adoption = adoption_year(panel)
    staggered = panel.first_treated is not None and len(adoption_years_in(panel)) > 1
    if staggered:
        reference, post = None, [k for k in event_times(panel) if k > event_base]
        first_post = f"event{post[0]}" if post else None
    else:
        reference = did_base if did_base is not None else adoption
        later = [y for y in panel.years if reference is not None and y > reference]
        first_post = f"did{later[0]}" if later else None
    return DesignDefaults(
        years=panel.years, year_base=panel.years[0], adoption_year=adoption, did_base=reference,
        event_base=event_base if staggered else None, staggered=staggered, first_post_term=first_post,
        balance_years=balance_years(panel, adoption if adoption is not None else did_base),
    )
