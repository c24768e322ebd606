"""Synthetic data sets calibrated to the papers, one module per study.

The real data behind the papers are confidential. Each generator plants the paper's published
estimates as the true parameters, documents every assumption the paper leaves open, and is
deterministic given its seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from payreform.errors import ParameterError, closest

STUDIES = {"youxi": "payreform.synth.youxi", "sanming": "payreform.synth.sanming", "ccmc": "payreform.synth.ccmc"}
"""Study name -> generator module."""


def generate(study: str, seed: int | None = None, scale: float = 1.0) -> pd.DataFrame:
    """Generate the synthetic data set of ``study`` (see :data:`STUDIES`).

    ``scale`` multiplies the number of persons for person-level studies; series studies accept
    only 1.

    Examples
    --------
    >>> generate("youxi", seed=1).shape
    (46, 5)
    """
    import importlib

    if study not in STUDIES:
        raise ParameterError(f"no synthetic study '{study}'{closest(study, STUDIES)}; available: {', '.join(STUDIES)}")
    module = importlib.import_module(STUDIES[study])
    if scale != 1.0 and not hasattr(module, "SCALABLE"):
        raise ParameterError(f"--scale applies to person-level studies; '{study}' is a fixed-length series")
    kwargs = {} if seed is None else {"seed": seed}
    return module.generate(**kwargs)


def ar1_noise(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    """A stationary AR(1) path: ``e_t = rho e_{t-1} + u_t``, ``u_t ~ N(0, sd^2)``, started from its
    stationary distribution.

    Examples
    --------
    >>> ar1_noise(np.random.default_rng(0), 4, 0.5, 0.0).tolist()
    [0.0, 0.0, 0.0, 0.0]
    """
    if not -1 < rho < 1:
        raise ParameterError(f"AR coefficient {rho} must lie strictly between -1 and 1")
    errors = np.empty(n)
    errors[0] = rng.normal(0, sd / np.sqrt(1 - rho**2))
    shocks = rng.normal(0, sd, n)
    for t in range(1, n):
        errors[t] = rho * errors[t - 1] + shocks[t]
    return errors
