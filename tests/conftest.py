"""Shared fixtures. Figures are drawn with the non-interactive Agg backend."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")  # in this process only: notebooks executed by the tests keep the inline backend

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def youxi_series() -> pd.DataFrame:
    """The synthetic Youxi series (default seed) plus population, as R read it."""
    return pd.read_csv(FIXTURES / "youxi_series.csv")


@pytest.fixture(scope="session")
def youxi_frame(youxi_series) -> pd.DataFrame:
    """The same series indexed by monthly periods."""
    frame = youxi_series.set_index("month")
    frame.index = pd.PeriodIndex(frame.index, freq="M")
    return frame
