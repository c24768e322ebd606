"""The duplicate person-year check: the bitmap screen for dense integer identifiers agrees with a
brute-force count, and the hash aggregate takes over where the screen does not apply."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from payreform.contracts import person_years
from payreform.errors import ContractError
from payreform.io.duckdb_source import ColumnSQL, DuckDBSource


def screen(frame: pd.DataFrame) -> bool | None:
    with DuckDBSource(frame) as source:
        cols = ColumnSQL({"person_id": "person_id", "year": "year"}, source.describe())
        return person_years._duplicates_in_dense_keys(source, cols)


def check(frame: pd.DataFrame) -> None:
    with DuckDBSource(frame) as source:
        cols = ColumnSQL({"person_id": "person_id", "year": "year"}, source.describe())
        person_years.check_duplicates(source, cols)


@pytest.mark.parametrize("seed", range(12))
def test_screen_agrees_with_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(100, 400))  # dense enough for the screen: 350 identifiers x 4 years <= 16 n
    frame = pd.DataFrame({"person_id": rng.integers(-50, 300, n), "year": rng.integers(2019, 2023, n)})
    if seed % 3 == 0:  # and sets without duplicates
        frame = frame.drop_duplicates()
    assert screen(frame) == bool(frame.duplicated().any())


def test_the_screen_steps_aside_for_text_and_sparse_identifiers():
    text = pd.DataFrame({"person_id": ["a", "b", "a"], "year": [2020, 2020, 2020]})
    sparse = pd.DataFrame({"person_id": [1, 10**15, 1], "year": [2020, 2021, 2020]})
    assert screen(text) is None and screen(sparse) is None
    for frame in (text, sparse):  # the hash aggregate still finds the duplicate, with its rows
        with pytest.raises(ContractError, match=r"appears more than once in year 2020 \(row 2 and row 4\)"):
            check(frame)


def test_dense_duplicate_is_reported_with_its_rows():
    frame = pd.DataFrame({"person_id": [7, 8, 9, 8], "year": [2021, 2021, 2021, 2021]})
    with pytest.raises(ContractError, match=r"person '8' appears more than once in year 2021 \(row 3 and row 5\)"):
        check(frame)
    check(frame.assign(year=[2021, 2021, 2021, 2022]))  # the same person in another year is fine


@pytest.mark.parametrize("seed", range(4))
def test_screen_reads_years_stored_as_decimals_and_large_identifiers(seed):
    """Years held as floating-point numbers (2021.0, as many exports write them) and identifiers
    far from zero take the bitmap screen too, with the brute-force answer."""
    rng = np.random.default_rng(100 + seed)
    n = 300
    frame = pd.DataFrame({"person_id": rng.integers(0, 250, n) + 4_000_000_000_000,
                          "year": rng.integers(2018, 2021, n).astype(float)})
    if seed % 2 == 0:
        frame = frame.drop_duplicates()
    assert screen(frame) == bool(frame.duplicated().any())
