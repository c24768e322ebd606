"""Run a chapter notebook on an analyst's data: check, execute with papermill, render the report.

Used by ``payreform run``. The data are checked against the chapter's contract first; nothing
is executed if they fail. Outputs go to a folder of their own, never next to the input file:

    DIR/notebook.ipynb   the executed notebook
    DIR/report.html      the rendered notebook (input cells hidden unless with_code=True)
    DIR/results.json     estimates and diagnostics (schema in payreform.report)
    DIR/figures/*.png    every figure
    DIR/report_files/    MathJax for the report's formulas, so that it renders offline
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from payreform.chapters import Chapter
from payreform.errors import ParameterError
from payreform.io import file_sha256, read_table


@dataclass(frozen=True)
class RunOutput:
    """Paths written by :func:`run_chapter`."""

    directory: Path
    notebook: Path
    report: Path
    results: Path
    figures: tuple[Path, ...]


class NotebookFailed(RuntimeError):
    """The chapter notebook raised an error while executing."""


def _check_output_folder(data: Path, out: Path) -> None:
    data_folder = data.resolve().parent
    out = out.resolve()
    if out == data_folder or data.resolve().is_relative_to(out):
        raise ParameterError(
            f"--out {out} holds the data file; choose a separate output folder (the input folder is never written to)"
        )
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out} is a file; give a folder")


def check_inputs(chapter: Chapter, data: str | Path, settings: Mapping[str, Any], out: str | Path) -> dict:
    """Read and check the data and parameters without executing anything; return the parameters."""
    data = Path(data)
    parameters = chapter.defaults() | dict(settings)
    if chapter.check_reads_path:
        if not data.exists():
            raise ParameterError(f"data file '{data}' does not exist; check the path given to --data")
        _check_output_folder(data, Path(out))
        chapter.check(str(data), parameters)
        return parameters
    table = read_table(data)
    _check_output_folder(data, Path(out))
    chapter.check(table.frame, parameters)
    return parameters


_MYST_ROLES = [
    (re.compile(r"\{(?:doc|ref|term)\}`([^`<]+?)\s*<[^>]+>`"), r"\1"),
    (re.compile(r"\{doc\}`(?:[^`]*/)?([^`/]+)`"), r"the handbook page '\1'"),
    (re.compile(r"\{(?:ref|term)\}`([^`]+)`"), r"\1"),
    (re.compile(r"\{cite:[pt]\}`([^`]+)`"), r"(\1)"),
    (re.compile(r"^\([\w-]+\)=\s*$", re.MULTILINE), ""),
]


def plain_markdown(text: str) -> str:
    """Replace MyST roles that only the book understands with plain text (for report.html).

    Examples
    --------
    >>> plain_markdown("see {doc}`../book/running_on_your_data` and {cite:p}`bernal2017its`")
    "see the handbook page 'running_on_your_data' and (bernal2017its)"
    """
    for pattern, replacement in _MYST_ROLES:
        text = pattern.sub(replacement, text)
    return text


def render_report(notebook: Path, target: Path, with_code: bool = False) -> Path:
    """Render an executed notebook to a self-contained HTML report (figures embedded).

    Cells tagged ``book-only`` (exercises, solutions) are left out and MyST roles are turned
    into plain text; the input cells are hidden unless ``with_code``.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    node = nbformat.read(notebook, as_version=4)
    for cell in node.cells:
        if cell.cell_type == "markdown":
            cell.source = plain_markdown(cell.source)
        elif cell.cell_type == "code":  # glued values are for the book, not the report
            cell.outputs = [o for o in cell.outputs
                            if not all(k.startswith("application/papermill.record") for k in o.get("data", {"": 0}))]
    exporter = HTMLExporter(extra_template_basedirs=[str(Path(__file__).parent / "templates")],
                            template_name="payreform_report")
    exporter.exclude_input = not with_code
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"book-only", "remove-cell"}), enabled=True)
    body, _ = exporter.from_notebook_node(node)
    target.write_text(body, encoding="utf-8")
    _copy_mathjax(target.parent / "report_files" / "mathjax")
    return target


def _copy_mathjax(destination: Path) -> None:
    """Copy MathJax's TeX-to-HTML bundle and its fonts (about 1.6 MB) next to the report."""
    import importlib

    try:
        source = Path(importlib.import_module("sphinx-mathjax-offline").__file__).parent / "static" / "mathjax"
    except ImportError:  # pragma: no cover - the formulas then show as TeX source
        return
    fonts = Path("output") / "chtml" / "fonts" / "woff-v2"
    (destination / fonts).mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "tex-chtml.js", destination / "tex-chtml.js")
    for font in (source / fonts).iterdir():
        shutil.copy2(font, destination / fonts / font.name)


def run_chapter(
    chapter: Chapter,
    data: str | Path,
    settings: Mapping[str, Any],
    out: str | Path,
    *,
    with_code: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = lambda message: None,
) -> RunOutput:
    """Check the data, execute the chapter notebook with papermill and render the report.

    Parameters
    ----------
    chapter
        From :func:`payreform.chapters.get`.
    data
        The analyst's CSV or Parquet file (read only; never modified).
    settings
        Parameter values overriding the chapter's defaults (already typed).
    out
        Output folder (created); must not be the folder holding ``data``.
    with_code
        Keep the input cells in ``report.html``.
    progress
        Show papermill's cell progress bar.
    log
        Called with a short message before each step.

    Raises
    ------
    ContractError, ParameterError
        Before anything is executed, if the data or parameters are unusable.
    NotebookFailed
        If the notebook raises while executing.
    """
    import jupytext
    import papermill

    data = Path(data)
    out = Path(out)
    parameters = check_inputs(chapter, data, settings, out)
    before = file_sha256(data)
    log(f"{data.name} meets the '{chapter.name}' data contract")
    out.mkdir(parents=True, exist_ok=True)
    parameters = parameters | {"data": str(data.resolve()), "output_dir": str(out.resolve())}
    notebook = out / "notebook.ipynb"
    with tempfile.TemporaryDirectory(prefix="payreform-") as scratch:
        source = Path(scratch) / "chapter.ipynb"
        jupytext.write(jupytext.read(chapter.notebook_path()), source)
        log(f"executing the chapter notebook ({chapter.notebook})")
        try:
            papermill.execute_notebook(
                str(source), str(notebook), parameters=parameters, kernel_name="python3",
                progress_bar=progress, cwd=str(out.resolve()), log_output=False,
            )
        except papermill.PapermillExecutionError as exc:
            raise NotebookFailed(
                f"the notebook stopped at cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
                f"(the partial notebook is in {notebook})"
            ) from None
    log("rendering report.html")
    report = render_report(notebook, out / "report.html", with_code=with_code)
    if file_sha256(data) != before:  # pragma: no cover - would be a bug in a notebook
        raise RuntimeError(f"the input file {data} changed during the run; please report this")
    results = out / "results.json"
    if not results.exists():
        raise NotebookFailed(f"the notebook finished but wrote no results.json into {out}")
    figures = tuple(sorted((out / "figures").glob("*.png")))
    return RunOutput(out, notebook, report, results, figures)

