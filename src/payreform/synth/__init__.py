"""Synthetic data sets calibrated to the papers, one module per study.

The real data behind the papers are confidential. Each generator plants the paper's published
estimates as the true parameters, documents every assumption the paper leaves open, and is
deterministic given its seed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from payreform.errors import ParameterError, closest

STUDIES = {"youxi": "payreform.synth.youxi", "sanming": "payreform.synth.sanming", "ccmc": "payreform.synth.ccmc",
           "gz": "payreform.synth.gz"}
"""Study name -> generator module."""


def _module(study: str, scale: float):
    import importlib

    if study not in STUDIES:
        raise ParameterError(f"no synthetic study '{study}'{closest(study, STUDIES)}; available: {', '.join(STUDIES)}")
    module = importlib.import_module(STUDIES[study])
    if scale is not None and scale != 1.0 and not hasattr(module, "SCALABLE"):
        raise ParameterError(f"--scale applies to person-level studies; '{study}' is a fixed-length series")
    return module


def generate(study: str, seed: int | None = None, scale: float | None = None) -> pd.DataFrame:
    """Generate the synthetic data set of ``study`` (see :data:`STUDIES`) in memory.

    ``scale`` is the fraction of the full population for person-level studies (default: the
    study's own, small, default); series and panel studies accept only None or 1.

    Examples
    --------
    >>> generate("youxi", seed=1).shape
    (46, 5)
    """
    module = _module(study, scale)
    kwargs = {} if seed is None else {"seed": seed}
    if scale is not None and hasattr(module, "SCALABLE"):
        kwargs["scale"] = scale
    return module.generate(**kwargs)


def write(study: str, path: str | Path, seed: int | None = None, scale: float | None = None,
          progress: Callable[[str, int, int], None] | None = None) -> int:
    """Write the synthetic data set of ``study`` to a ``.csv`` or ``.parquet`` file; return its rows.

    Person-level studies are written a chunk at a time, so a full city (about 18 million rows)
    never has to fit in memory.
    """
    path = Path(path)
    module = _module(study, scale)
    if path.suffix.lower() not in {".csv", ".parquet"}:
        raise ParameterError(f"output file '{path.name}': use a .csv or .parquet file name")
    if hasattr(module, "write"):
        kwargs = {} if seed is None else {"seed": seed}
        module.write(path, scale=1.0 if scale is None else scale, progress=progress, **kwargs)
        import pyarrow.parquet as pq

        if path.suffix.lower() == ".parquet":
            return pq.ParquetFile(path).metadata.num_rows
        with open(path, "rb") as handle:
            return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b"")) - 1
    frame = generate(study, seed=seed, scale=scale)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return len(frame)


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
