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

from payreform.errors import ContractError, ParameterError
from payreform.io.tables import check_data_path

REPORT_DROPPED_TAGS = {"book-only", "book-voice", "remove-cell"}
"""Cells left out of a report on a user's data: exercises, the book's voice (the paper and its
synthetic data), and cells the book hides."""


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


_MYST_ROLES = [
    (re.compile(r"\{(?:doc|ref|term)\}`([^`<]+?)\s*<[^>]+>`"), r"\1"),
    (re.compile(r"\{doc\}`(?:[^`]*/)?([^`/]+)`"), r"the handbook page '\1'"),
    (re.compile(r"\{(?:ref|term)\}`([^`]+)`"), r"\1"),
    (re.compile(r"^\([\w-]+\)=\s*$", re.MULTILINE), ""),
]


def plain_markdown(text: str) -> str:
    """Replace MyST roles that only the book understands with plain text (for report.html).

    Examples
    --------
    >>> plain_markdown("see {doc}`../book/running_on_your_data` and {cite:p}`bernal2017its`")
    "see the handbook page 'running_on_your_data' and (Lopez Bernal et al. 2017)"
    """
    text = _CITE.sub(lambda m: cite(m.group(2), narrative=m.group(1) == "t"), text)
    for pattern, replacement in _MYST_ROLES:
        text = pattern.sub(replacement, text)
    return text


_CITE = re.compile(r"\{cite:([pt])\}`([^`]+)`")


def _bibliography() -> dict[str, tuple[str, str]]:
    """Key -> (authors as cited, year) from the handbook's references.bib."""
    from payreform.published import data_directory

    path = data_directory().parent.parent / "book" / "references.bib"
    if not path.exists():  # pragma: no cover - payreform run works from a clone
        return {}
    entries = {}
    for block in re.split(r"\n@", "\n" + path.read_text(encoding="utf-8")):
        key = re.match(r"\w+\{([^,]+),", block)
        if not key:
            continue
        author = re.search(r"author\s*=\s*\{(.*)\},?\s*$", block, flags=re.M)
        year = re.search(r"year\s*=\s*\{([^}]*)\}", block)
        names = [a.strip().strip("{}").split(",")[0].strip("{} ") for a in (author.group(1) if author else "").split(" and ")]
        cited = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al."
        entries[key.group(1).strip()] = (cited, year.group(1) if year else "n.d.")
    return entries


def cite(keys: str, narrative: bool = False) -> str:
    """A citation in author-year form for plain reports ('(Lopez Bernal et al. 2017)').

    Examples
    --------
    >>> cite("bernal2017its")
    '(Lopez Bernal et al. 2017)'
    >>> cite("bernal2017its", narrative=True)
    'Lopez Bernal et al. (2017)'
    """
    bib = _bibliography()
    found = [bib.get(k.strip(), (k.strip(), "")) for k in keys.split(",")]
    if narrative:
        return "; ".join(f"{a} ({y})" if y else a for a, y in found)
    return "(" + "; ".join(f"{a} {y}".strip() for a, y in found) + ")"


def render_report(notebook: Path, target: Path, with_code: bool = False, title: str | None = None) -> Path:
    """Render an executed notebook to a self-contained HTML report (figures embedded).

    Cells tagged ``book-only`` (exercises, solutions) are left out and MyST roles are turned
    into plain text; the input cells are hidden unless ``with_code``.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    node = nbformat.read(notebook, as_version=4)
    if title:
        from importlib.metadata import version

        heading = nbformat.v4.new_markdown_cell(f"# {title}\n\nWritten by `payreform run` (payreform {version('payreform')}).")
        node.cells.insert(0, heading)
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
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=REPORT_DROPPED_TAGS), enabled=True)
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


def _ipc_kernel_manager():
    """A kernel manager that talks to the kernel over local IPC sockets instead of TCP ports, so
    the kernel has no open port and prints no warning about unencrypted TCP."""
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("transport", "ipc")
            super().__init__(**kwargs)

    return IPCKernelManager


def _execute(source_notebook: Path, target: Path, parameters: Mapping[str, Any], cwd: Path,
             progress: bool) -> None:
    import jupytext
    import papermill

    with tempfile.TemporaryDirectory(prefix="payreform-nb-") as scratch:
        source = Path(scratch) / "chapter.ipynb"
        node = jupytext.read(source_notebook)
        # a run on a user's data leaves out the book's voice and the exercises before executing them
        node.cells = [c for c in node.cells if not set(c.metadata.get("tags", [])) & {"book-only", "book-voice"}]
        jupytext.write(node, source)
        try:
            papermill.execute_notebook(str(source), str(target), parameters=dict(parameters), kernel_name="python3",
                                       progress_bar=progress, cwd=str(cwd), log_output=False,
                                       kernel_manager_class=_ipc_kernel_manager())
        except papermill.PapermillExecutionError as exc:
            if exc.ename in {"ContractError", "ParameterError", "PayreformError"}:
                error = ContractError if exc.ename == "ContractError" else ParameterError
                raise error(str(exc.evalue)) from None
            raise NotebookFailed(
                f"the notebook stopped at cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
            ) from None


def _stamp(path: Path) -> tuple[int, int, int]:
    """Size, modification time and inode of a file: any write changes one of them (cheaper than
    hashing the file a second time; the hash of its contents is taken once, by ``prepare``)."""
    info = path.stat()
    return info.st_size, info.st_mtime_ns, info.st_ino


def run_chapter(
    chapter: Any,
    data: str | Path,
    settings: Mapping[str, Any],
    out: str | Path,
    *,
    with_code: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = lambda message: None,
) -> RunOutput:
    """Check the data, execute the chapter notebook with papermill and render the report.

    The chapter's ``prepare`` reads, hashes and checks the data once; the notebook receives what
    it prepared (a pickle in a scratch folder) instead of reading the file again. Everything is
    written into a scratch folder first and moved into ``out`` only when the run succeeds, so a
    failed run leaves nothing behind (except, for a notebook error, ``out/notebook-failed.ipynb``).

    Parameters
    ----------
    chapter
        From :func:`payreform.chapters.get`.
    data
        The analyst's CSV, Excel or Parquet file (read only; never modified).
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
        If the data or parameters are unusable (nothing is executed or written).
    NotebookFailed
        If the notebook raises while executing.
    """
    data = check_data_path(data)
    out = Path(out)
    _check_output_folder(data, out)
    stamp = _stamp(data)
    prepared = chapter.prepare(str(data), dict(settings))
    derived = prepared.settings.derived()
    log(f"{data.name}: {prepared.data.get('rows', '?')} rows meet the '{chapter.name}' data contract"
        + (f"; from the data: {', '.join(derived)}" if derived else ""))
    with tempfile.TemporaryDirectory(prefix="payreform-run-") as scratch:
        staging = Path(scratch) / "out"
        staging.mkdir()
        prepared_file = prepared.save(Path(scratch) / "prepared.pickle")
        parameters = chapter.defaults() | dict(settings) | {
            "data": str(data.resolve()), "output_dir": str(staging), "prepared_input": str(prepared_file)}
        notebook = staging / "notebook.ipynb"
        log(f"executing the chapter notebook ({chapter.notebook})")
        try:
            _execute(chapter.notebook_path(), notebook, parameters, staging, progress)
        except NotebookFailed as exc:
            out.mkdir(parents=True, exist_ok=True)
            if notebook.exists():
                shutil.copy2(notebook, out / "notebook-failed.ipynb")
            raise NotebookFailed(f"{exc} (the partial notebook is in {out / 'notebook-failed.ipynb'})") from None
        if not (staging / "results.json").exists():
            raise NotebookFailed(f"the notebook finished but wrote no results.json (chapter {chapter.name})")
        log("rendering report.html")
        render_report(notebook, staging / "report.html", with_code=with_code,
                      title=chapter.report_title or chapter.title)
        if _stamp(data) != stamp:  # pragma: no cover - would be a bug
            raise RuntimeError(f"the input file {data} changed during the run; please report this")
        out.mkdir(parents=True, exist_ok=True)
        for item in staging.iterdir():
            target = out / item.name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            shutil.move(str(item), str(target))
    figures = tuple(sorted((out / "figures").glob("*.png")))
    return RunOutput(out, out / "notebook.ipynb", out / "report.html", out / "results.json", figures)
