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
def browser():
    """Debian's headless Chromium through Playwright, one for the whole session (a second
    ``sync_playwright`` in the same process would refuse to start inside the first one's loop)."""
    import os
    import shutil

    if os.environ.get("PAYREFORM_SKIP_BROWSER") == "1":
        pytest.skip("PAYREFORM_SKIP_BROWSER=1")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Chromium not found: install Debian's chromium (make test does) or set PAYREFORM_SKIP_BROWSER=1"
    from helpers import CHROMIUM_FLAGS
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


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


SLOW_MODULES = {
    # whole-chapter runs, calibrations and strangers' data sets: seconds each, in the slow lane
    "test_ccmc_run", "test_capitation", "test_capitation_contract", "test_youxi_synth", "test_gz_runner",
    "test_youxi_chapter", "test_stranger_gz", "test_stranger_ccmc", "test_did_staggered", "test_youxi_text",
    "test_gz_synth", "test_sanming_chapter", "test_sanming_synth", "test_budget_chapter",
    "test_capitation_disclosure", "test_malformed_inputs", "test_stranger_sanming", "test_capitation_defaults",
}
"""Test modules that run whole chapters or simulations: `make test` runs them after the fast lane
(unit tests and doctests, under a minute), on both cores."""


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
SLOW_MODULES |= {"test_itsa_power"}
SLOW_MODULES |= {"test_itsa_grid"}
