"""The result of a chapter run: one object with the estimates, diagnostics, tables, figures and text.

Every chapter runner's ``run`` returns a subclass of :class:`ChapterResult`. The notebook shows
its tables and figures and glues its values; ``payreform run`` and the tests call
:meth:`ChapterResult.write`, which writes ``results.json``, ``tables/*.csv`` and
``figures/*.png``. Nothing here prints or changes global state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from matplotlib.figure import Figure

from payreform.chapters.base import PreparedInput
from payreform.report import write_results


@dataclass(frozen=True, eq=False)
class ChapterResult(ABC):
    """Base class of the chapter results.

    Subclasses implement :meth:`estimates`, :meth:`diagnostics`, :meth:`figure` (for each name in
    :meth:`figure_names`) and usually :meth:`tables`, :meth:`summary`, :meth:`warnings` and
    :meth:`glue_values`.
    """

    prepared: PreparedInput = field(repr=False)

    chapter: ClassVar[str] = ""

    # ------------------------------------------------------------------ what subclasses provide

    @abstractmethod
    def estimates(self) -> pd.DataFrame:
        """Tidy estimates: model, outcome, term, estimate, std_error, p_value, ci_low, ci_high, n_obs."""

    @abstractmethod
    def diagnostics(self) -> dict:
        """The ``diagnostics`` block of ``results.json``."""

    def figure_names(self) -> tuple[str, ...]:
        """Names of the figures this result can draw (``figures/<name>.png``)."""
        return ()

    def figure(self, name: str) -> Figure:
        """Draw one figure (a new Matplotlib figure; the caller closes or shows it)."""
        raise KeyError(f"no figure '{name}'; available: {', '.join(self.figure_names())}")

    def tables(self) -> dict[str, pd.DataFrame]:
        """Named result tables (``tables/<name>.csv``; later sheets of ``tables.xlsx``)."""
        return {"estimates": self.estimates()}

    def summary(self) -> str:
        """A few plain sentences, chosen and filled in from the numbers (Markdown)."""
        return ""

    def warnings(self) -> list[str]:
        """Warnings a reader must see (failed pre-trends, remaining autocorrelation, small cells...)."""
        return []

    def glue_values(self) -> dict[str, Any]:
        """Values the book page glues into its prose (name -> number or text)."""
        return {}

    def term_labels(self, language: str = "en") -> dict[str, str]:
        """Readable names of the chapter's terms (``did2021`` -> "treated × 2021"), for reports."""
        return {}

    def method_text(self, language: str = "en") -> str:
        """The method in one paragraph, for report.docx (English or Chinese)."""
        return ""

    def limitations(self, language: str = "en") -> list[str]:
        """What the design cannot show, for report.docx (English or Chinese)."""
        return []

    # ------------------------------------------------------------------ shared

    @property
    def language(self) -> str:
        """Language of the deliverables and figure labels (``en`` unless the run set ``language``)."""
        return str(self.settings.values().get("language") or "en")

    def draw(self, name: str) -> Figure:
        """:meth:`figure` with its labels in the run's language."""
        import matplotlib.pyplot as plt

        from payreform.deliverables import translate_figure
        from payreform.plots import chinese_font

        cjk = chinese_font()  # Chinese column names and labels fall back to it glyph by glyph
        with plt.rc_context({"font.family": ["DejaVu Sans", cjk]} if cjk else {}):
            fig = self.figure(name)
            translate_figure(fig, self.language)
        return fig

    @property
    def settings(self):
        """The settings of the run (see :class:`payreform.chapters.base.Settings`)."""
        return self.prepared.settings

    @property
    def book_data(self) -> bool:
        """True when the run uses the book's synthetic data."""
        return self.prepared.book_data

    def settings_table(self) -> pd.DataFrame:
        """Parameter, value and source (default, set, from the data) of every setting that applies.

        The data file is shown by name (a shareable report does not reveal local paths); the
        synthetic data's own settings (seed, scale) are left out on a user's data.
        """
        skip = ("output_dir", "prepared_input") + (() if self.book_data else ("seed", "scale"))
        table = self.prepared.settings.table(skip=skip)
        shown = "the book's synthetic data" if self.book_data else self.prepared.data.get("file", "a data frame")
        table.loc[table["parameter"] == "data", "value"] = shown
        return table

    def data_line(self) -> str:
        """One sentence on the data: file name, rows and checksum (or the synthetic data's seed)."""
        info = self.prepared.data
        if self.book_data:
            return (f"Data: the book's synthetic data (seed {info.get('seed')}), {info.get('rows')} rows, "
                    f"SHA-256 {str(info.get('sha256'))[:16]}….")
        name = info.get("file", "a data frame")
        return f"Data: `{name}`, {info.get('rows')} rows, SHA-256 {str(info.get('sha256'))[:16]}…."

    def results_document(self) -> dict[str, Any]:
        """Everything ``results.json`` holds besides the schema version (for tests and exports)."""
        return {"chapter": self.chapter, "parameters": self.settings.values(), "data": self.prepared.data,
                "estimates": self.estimates(), "diagnostics": self.diagnostics()}

    def write(self, directory: str | Path, *, figures: bool = True, deliverables: bool = True,
              title: str = "") -> Path:
        """Write ``results.json``, ``tables/*.csv``, (if ``figures``) ``figures/*.png`` and (if
        ``deliverables``) ``tables.xlsx`` and ``report.docx`` with the figures found in ``figures/``.

        Returns the path of ``results.json``.
        """
        import matplotlib.pyplot as plt

        from payreform.plots import save

        directory = Path(directory)
        diagnostics = dict(self.diagnostics())
        diagnostics.setdefault("derived_settings", list(self.settings.derived()))
        diagnostics.setdefault("summary", self.summary())
        diagnostics.setdefault("warnings", self.warnings())
        path = write_results(directory, chapter=self.chapter, parameters=self._parameters(),
                             data=self.prepared.data, estimates=self.estimates(), diagnostics=diagnostics)
        tables = directory / "tables"
        tables.mkdir(exist_ok=True)
        for name, table in self.tables().items():
            table.to_csv(tables / f"{name}.csv", index=False)
        if figures:
            for name in self.figure_names():
                fig = self.draw(name)
                save(fig, directory, name)
                plt.close(fig)
        if deliverables:
            from payreform.deliverables import write_docx, write_xlsx

            write_xlsx(self, directory / "tables.xlsx", self.language)
            write_docx(self, directory / "report.docx", directory / "figures", self.language,
                       title=title or self.report_title())
        return path

    def report_title(self) -> str:
        """The chapter's report title (the method, without the study's place or years)."""
        from payreform.chapters import get

        chapter = get(self.chapter)
        return chapter.report_title or chapter.title

    def _parameters(self) -> Mapping[str, Any]:
        values = self.settings.values()
        values.pop("prepared_input", None)
        return values
