"""Every malformed input of the corpus (tests/malformed.py) is refused by `payreform run` in one line,
with exit status 2, the input byte-identical and nothing written; the book's table of them is the
one the command prints today."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import sha
from malformed import CASES, markdown_table, run_case

ROOT = Path(__file__).resolve().parents[1]


def test_the_corpus_is_large_and_covers_every_chapter():
    from payreform import chapters

    assert len(CASES) >= 30
    assert {case.chapter for case in CASES} == set(chapters.CHAPTERS)
    assert len({(case.chapter, case.what) for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.chapter}:{c.what}" for c in CASES])
def test_malformed_input_is_refused_in_one_line(tmp_path, case):
    import re

    folder = tmp_path / "case"
    before = {}

    def snapshot(path: Path) -> dict:
        return {p.name: sha(p) for p in path.parent.iterdir()}

    result, data, out = run_case(case, folder)
    before = snapshot(data)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    assert re.search(case.message, lines[0]), lines[0]
    assert snapshot(data) == before and list(before) == [data.name]  # untouched, nothing beside it
    if out != data.parent:
        assert not out.exists()


@pytest.mark.slow
def test_the_books_table_is_what_the_command_prints():
    table = (ROOT / "book" / "_generated" / "malformed_inputs.md").read_text(encoding="utf-8")
    assert table == markdown_table(), "regenerate: python tests/malformed.py > book/_generated/malformed_inputs.md"
