"""Helpers shared by the test modules that execute chapter notebooks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import jupytext
import papermill

from payreform import chapters, report

ROOT = Path(__file__).resolve().parents[1]


def execute_notebook(tmp_path: Path, notebook: str, **parameters) -> dict:
    """Execute ``notebooks/<notebook>.py`` with papermill in ``tmp_path``; return its results.json."""
    source = tmp_path / f"{notebook}.ipynb"
    jupytext.write(jupytext.read(ROOT / "notebooks" / f"{notebook}.py"), source)
    out = tmp_path / "out"
    papermill.execute_notebook(str(source), str(tmp_path / "executed.ipynb"), kernel_name="python3",
                               parameters={"output_dir": str(out)} | parameters, progress_bar=False,
                               cwd=str(tmp_path))
    return report.read_results(out / "results.json")


def assert_registry_matches_notebook(tmp_path: Path, chapter: str) -> None:
    """The chapter registry lists exactly the notebook's parameters, in order, with its defaults."""
    registered = chapters.get(chapter)
    source = tmp_path / "inspect.ipynb"
    jupytext.write(jupytext.read(ROOT / "notebooks" / registered.notebook), source)
    inspected = papermill.inspect_notebook(str(source))
    defaults = registered.defaults()
    assert list(inspected) == list(defaults)
    for name, info in inspected.items():
        assert eval(info["default"]) == defaults[name], name  # noqa: S307 - literal defaults from our notebook


def sha(path: Path) -> str:
    """SHA-256 of a file (to check that an input file is untouched)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused(chapter: str, data: Path, out: Path, settings: list[str], message: str) -> None:
    """`payreform run CHAPTER` refuses ``data``: exit status 2, one line ``error: ...`` matching
    ``message`` (a regular expression), no traceback, the input unchanged and nothing written."""
    import re

    from click.testing import CliRunner

    from payreform.cli import main

    before = sha(data)
    result = CliRunner().invoke(main, ["run", chapter, "--data", str(data), "--out", str(out), *settings])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert re.search(message, lines[0]), lines[0]
    assert "Traceback" not in result.output
    assert sha(data) == before
    assert not out.exists()


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
