"""No study year as a literal in the package or the notebooks' code (SPEC: a stranger's data has
other years): outside the synthetic generators and the published figures, a year comes from the
data or from the study's generator constants (``youxi.INTERVENTION`` ...), never from the code."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
YEARS = re.compile(r"(?<![\d.])(201[6-9]|202[0-4])(?![\d])")
EXEMPT = ("src/payreform/synth/",)


def literal_years(source: str) -> list[tuple[int, str]]:
    """(line, token) of numbers and strings holding a study year; docstrings and comments excluded."""
    found = []
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    previous = None
    for token in tokens:
        if token.type == tokenize.NUMBER and YEARS.fullmatch(token.string):
            found.append((token.start[0], token.string))
        elif token.type == tokenize.STRING and YEARS.search(token.string):
            docstring = previous is None or previous.type in (tokenize.INDENT, tokenize.NEWLINE, tokenize.NL,
                                                              tokenize.DEDENT, tokenize.ENCODING)
            if not docstring:
                found.append((token.start[0], token.string))
        if token.type not in (tokenize.COMMENT, tokenize.NL):
            previous = token
    return found


def test_the_finder_finds_years_in_code_but_not_in_docstrings_or_comments():
    code = 'def f():\n    """In 2017-10."""\n    # 2018\n    x = 2020\n    y = "2021-01"\n    return x, y\n'
    assert literal_years(code) == [(4, "2020"), (5, '"2021-01"')]


def test_no_study_year_in_the_package_or_the_notebooks():
    offenders = []
    files = [p for p in (ROOT / "src" / "payreform").rglob("*.py")
             if not str(p.relative_to(ROOT)).startswith(EXEMPT)]
    files += sorted((ROOT / "notebooks").glob("*.py"))
    for path in files:
        for line, token in literal_years(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {token}")
    assert not offenders, "study years as literals:\n" + "\n".join(offenders)
