"""Sphinx extension: pictures of the Word report for the page on running a chapter on your own data.

At the start of every build it runs the Youxi chapter on a series that is not the book's (the
synthetic series of another seed, with the intervention set as a user would set it), writes
``report.docx`` in the edition's language and draws its first two pages side by side into
``book/_generated/word_report.png`` (English) or ``word_report.zh_CN.png`` (Chinese; Sphinx picks
the language's file by ``figure_language_filename``). The picture is therefore always the report
that the installed code writes. Rendering needs LibreOffice and Poppler
(:mod:`payreform.deliverables.preview`); without them the build warns and names the packages.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
GENERATED = Path(__file__).resolve().parents[1] / "_generated"
CHINESE_COLUMNS = {"month": "月份", "outpatient_emergency_visits": "门急诊人次", "hospitalizations": "住院人次",
                   "cost_per_outpatient_visit": "次均门诊费用", "cost_per_hospitalization": "次均住院费用"}


def picture_name(language: str | None) -> str:
    """``word_report.png`` for English, ``word_report.<language>.png`` for a translation."""
    return "word_report.png" if language in (None, "", "en") else f"word_report.{language}.png"


def draw_report_pages(language: str | None, target: Path) -> Path:
    """Run the chapter, write its Word report in ``language`` and draw pages 1 and 2 into ``target``."""
    from PIL import Image

    from payreform.chapters import youxi_itsa
    from payreform.deliverables.preview import docx_to_pdf, pdf_page_png
    from payreform.synth import youxi

    zh = str(language or "").startswith("zh")
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        series = youxi.generate(seed=3)
        if zh:
            series = series.rename(columns=CHINESE_COLUMNS)
        data = work / ("县医院月度数据.csv" if zh else "county_hospitals.csv")
        series.to_csv(data, index=False)
        settings = {"intervention": "2017-10", "language": "zh" if zh else "en"}
        if zh:
            settings["time_column"] = "月份"
        result = youxi_itsa.run(youxi_itsa.prepare(data, settings))
        result.write(work / "out")
        pdf = docx_to_pdf(work / "out" / "report.docx", work)
        pages = [Image.open(pdf_page_png(pdf, work / f"page{k}.png", page=k, dpi=70)).convert("RGB") for k in (1, 2)]
    gap = 24
    sheet = Image.new("RGB", (sum(p.width for p in pages) + 3 * gap, max(p.height for p in pages) + 2 * gap),
                      (225, 228, 232))
    x = gap
    for page in pages:
        sheet.paste(page, (x, gap))
        x += page.width + gap
    target.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(target)
    return target


def _draw(app) -> None:
    from payreform.deliverables.preview import missing_tools

    language = app.config.language
    target = GENERATED / picture_name(language)
    missing = missing_tools()
    if missing:
        LOGGER.warning("word_preview: the picture of the Word report needs %s (apt-get install %s; `make book` "
                       "installs them when run as root)", " and ".join(missing), " ".join(missing))
        return
    draw_report_pages(language, target)


def setup(app):
    app.connect("builder-inited", _draw)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
