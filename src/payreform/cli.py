"""The ``payreform`` command.

    payreform chapters [NAME]                                  list chapters, parameters, contracts
    payreform synth STUDY --out FILE [--seed N] [--scale X]    write a synthetic data set
    payreform run CHAPTER --data FILE --out DIR [--set KEY=VALUE ...] [--with-code]

Errors caused by the data or the parameters print one line and exit with status 2; nothing is
executed and no file is written in that case.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import click

from payreform import chapters as chapter_registry
from payreform.errors import PayreformError

EXIT_BAD_INPUT = 2
EXIT_NOTEBOOK_FAILED = 1


def _fail(message: str, status: int = EXIT_BAD_INPUT) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(status)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="payreform")
def main() -> None:
    """Methods handbook for evaluating China's health-insurance payment reforms."""


@main.command("chapters")
@click.argument("name", required=False)
def chapters_command(name: str | None) -> None:
    """List the chapters, their parameters and data contracts."""
    try:
        selected = [chapter_registry.get(name)] if name else list(chapter_registry.CHAPTERS.values())
    except PayreformError as exc:
        _fail(str(exc))
    for chapter in selected:
        click.secho(f"{chapter.name}", bold=True, nl=False)
        click.echo(f"  {chapter.title}  (notebook: notebooks/{chapter.notebook}, synthetic data: {chapter.study})")
        click.echo("  parameters (--set KEY=VALUE):")
        for p in chapter.parameters:
            if p.name in {"data", "output_dir", "prepared_input"}:
                continue
            choices = f" [{' | '.join(p.choices)}]" if p.choices else ""
            derived = getattr(p, "derived", None)
            default = f"from the data: {derived}" if derived and p.default is None else repr(p.default)
            click.echo(f"    {p.name:<13} default {default:<24} {p.help}{choices}")
        click.echo("  data contract:")
        click.echo(textwrap.indent(chapter.contract, "    "))
        click.echo()


@main.command("synth")
@click.argument("study")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="file to write (.csv or .parquet)")
@click.option("--seed", type=int, default=None, help="random seed (default: the book's)")
@click.option("--scale", type=float, default=None,
              help="fraction of the full population (person-level studies; gz: 1 = about 18 million rows)")
@click.option("--overwrite", is_flag=True, help="replace FILE if it exists")
def synth_command(study: str, out: Path, seed: int | None, scale: float | None, overwrite: bool) -> None:
    """Write the synthetic data set of STUDY (youxi, sanming, ccmc, gz) to FILE."""
    from tqdm import tqdm

    from payreform import synth

    if out.suffix.lower() not in {".csv", ".parquet"}:
        _fail(f"--out {out}: use a .csv or .parquet file name")
    if out.exists() and not overwrite:
        _fail(f"--out {out} exists; pass --overwrite to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    bar = None

    def progress(step: str, done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=f"writing {study}", unit="row", unit_scale=True, file=sys.stderr)
        bar.update(done - bar.n)

    try:
        rows = synth.write(study, out, seed=seed, scale=scale, progress=progress)
    except PayreformError as exc:
        _fail(str(exc))
    finally:
        if bar is not None:
            bar.close()
    click.echo(f"wrote {rows:,} rows to {out}")


@main.command("run")
@click.argument("chapter")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path),
              help="your data file (CSV, Excel or Parquet); never modified")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="output folder (not the data file's folder)")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="override a parameter (repeatable); see `payreform chapters CHAPTER`")
@click.option("--with-code", is_flag=True, help="keep the code cells in report.html")
@click.option("--quiet", is_flag=True, help="no progress output")
def run_command(chapter: str, data: Path, out: Path, settings: tuple[str, ...], with_code: bool,
                quiet: bool) -> None:
    """Check DATA against CHAPTER's contract, run the chapter on it, write the report into OUT."""
    from payreform.execute import NotebookFailed, run_chapter

    def log(message: str) -> None:
        if not quiet:
            click.echo(f"[payreform] {message}", err=True)

    try:
        selected = chapter_registry.get(chapter)
        values = selected.parse_settings(list(settings))
        output = run_chapter(selected, data, values, out, with_code=with_code, progress=not quiet, log=log)
    except PayreformError as exc:
        _fail(str(exc))
    except NotebookFailed as exc:
        _fail(str(exc), EXIT_NOTEBOOK_FAILED)
    click.echo(f"report:   {output.report}")
    for name in ("report.docx", "tables.xlsx"):
        if (output.directory / name).exists():
            click.echo(f"{name.split('.')[1]}:     {output.directory / name}")
    click.echo(f"results:  {output.results}")
    click.echo(f"notebook: {output.notebook}")
    click.echo(f"figures:  {len(output.figures)} PNG files in {output.directory / 'figures'}")


@main.command("plan")
@click.argument("design", type=click.Choice(["itsa"]))
@click.option("--data", "data", required=True, type=click.Path(path_type=Path),
              help="the pre-period series (CSV, Excel or Parquet); never modified")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="output folder (plan.json, power.csv, figures/power.png)")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="post_periods, level_change, slope_change, inference, reps, outcome, time_column ...")
@click.option("--quiet", is_flag=True, help="no progress bar")
def plan_command(design: str, data: Path, out: Path, settings: tuple[str, ...], quiet: bool) -> None:
    """Power and minimum detectable changes of an interrupted time series, from its pre-period."""
    from tqdm import tqdm

    from payreform.chapters.itsa_plan import PLANNER, plan_from_data, write_plan

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = tqdm(total=total, desc="simulating", unit="series", file=sys.stderr)
        bar.update(done - bar.n)

    try:
        values = PLANNER.parse_settings(list(settings))
        plan, record = plan_from_data(str(data), values, progress)
    except PayreformError as exc:
        _fail(str(exc))
    finally:
        if bar is not None:
            bar.close()
    path = write_plan(plan, record, out)
    shown = plan.table[["post_periods", "term", "change", "power", "mde_increase", "mde_decrease"]]
    click.echo(shown.to_string(index=False, float_format=lambda v: f"{v:,.4g}"))
    click.echo(f"plan:     {path}")


if __name__ == "__main__":  # pragma: no cover
    main()
