"""report.docx and tables.xlsx: read back, they hold what results.json holds, every table and every
figure; a Chinese run has Chinese headers and labels (and no glyph is missing)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest

from payreform.chapters import youxi_itsa
from payreform.deliverables import label, term_table
from payreform.synth import youxi

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    folders = {}
    for language in ("en", "zh"):
        folder = tmp_path_factory.mktemp(language)
        data = folder / "input.csv"
        youxi.generate(seed=3).rename(columns={"hospitalizations": "住院人次"}).to_csv(data, index=False)
        result = youxi_itsa.run(youxi_itsa.prepare(data, {"intervention": "2017-10", "language": language}))
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # a missing glyph would warn
            result.write(folder / "out")
        folders[language] = folder / "out"
    return folders


def test_xlsx_numbers_equal_results_json(written):
    out = written["en"]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(out / "tables.xlsx")
    assert book.sheetnames[0] == "settings"
    sheet = book["estimates"]
    rows = list(sheet.values)
    header, body = rows[0], rows[1:]
    frame = pd.DataFrame(body, columns=header)
    expected = pd.DataFrame(results["estimates"])
    assert len(frame) == len(expected)
    for ours, theirs in (("estimate", "estimate"), ("standard error", "std_error"), ("p-value", "p_value"),
                         ("95% CI low", "ci_low")):
        assert all(isinstance(v, float) for v in frame[ours].dropna())  # numbers, not text
        pd.testing.assert_series_equal(frame[ours].astype(float), expected[theirs].astype(float),
                                       check_names=False, rtol=1e-12)
    settings = {row[0]: row[1] for row in book["settings"].values}
    assert settings["SHA-256 checksum"] == results["data"]["sha256"]
    assert settings["intervention"] == "2017-10" and settings["file"] == "input.csv"
    assert sheet["D2"].number_format != "General"


def test_docx_holds_every_table_and_figure(written):
    out = written["en"]
    document = docx.Document(out / "report.docx")
    figures = sorted((out / "figures").glob("*.png"))
    assert len(document.inline_shapes) == len(figures) > 5
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    for expected in ("summary", "settings", "tables", "figures", "method", "limitations"):
        assert expected in headings, expected
    first = document.tables[1]  # after the settings table: the first outcome's estimates
    assert [c.text for c in first.rows[0].cells] == ["term", "β (95% CI)", "p-value"]
    assert any("(" in c.text and "," in c.text for c in first.columns[1].cells[1:])
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Data: input.csv" in text and "segmented" in text


def test_chinese_run_has_chinese_headers_and_labels(written):
    out = written["zh"]
    book = openpyxl.load_workbook(out / "tables.xlsx")
    assert book.sheetnames[0] == label("settings", "zh")
    header = next(book["estimates"].values)
    assert label("estimate", "zh") in header and label("p_value", "zh") in header
    document = docx.Document(out / "report.docx")
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert label("settings", "zh") in headings and label("method", "zh") in headings
    assert "β (95% CI)" in [c.text for c in document.tables[1].rows[0].cells]
    assert any(label("gls_calibrated", "zh") in h for h in headings)  # the default on a user's data
    method = [p.text for p in document.paragraphs]
    assert any("分段回归" in p for p in method)


def test_glossary_and_term_list_agree():
    """Every statistical term of the glossary that the term list knows has the same Chinese name."""
    import re

    glossary = (Path(__file__).resolve().parents[1] / "book" / "glossary.md").read_text(encoding="utf-8")
    entries = re.findall(r"^([A-Z][^\n(]*?) \([^)]*?([\u4e00-\u9fff][^)]*)\)$", glossary, flags=re.M)
    terms = term_table().assign(en=lambda t: t["en"].str.lower()).set_index("en")["zh"]
    checked = 0
    for english, chinese in entries:
        key = english.strip().lower()
        if key in terms.index:
            assert terms[key] == chinese.split(",")[-1].strip(), english
            checked += 1
    assert checked >= 6


@pytest.fixture(scope="module")
def printed(written, tmp_path_factory) -> dict[str, Path]:
    """Both reports laid out by LibreOffice as PDF (skipped, with the reason, where it cannot be installed)."""
    from payreform.deliverables.preview import docx_to_pdf, missing_tools

    if missing_tools():
        pytest.skip(f"LibreOffice/Poppler missing ({', '.join(missing_tools())}); `make test` installs them as root")
    return {language: docx_to_pdf(out / "report.docx", tmp_path_factory.mktemp(f"pdf_{language}"))
            for language, out in written.items()}


def test_reports_print_with_their_fonts_and_pages(printed, tmp_path):
    """The visual check: the report lays out on a few pages (wide tables on landscape pages instead of
    one column per character), page 1 has ink on it, and the Chinese report embeds a CJK font (no
    tofu boxes)."""
    import numpy as np
    from PIL import Image

    from payreform.deliverables.preview import pdf_fonts, pdf_page_png, pdf_pages

    pages = {language: pdf_pages(pdf) for language, pdf in printed.items()}
    assert 6 <= pages["en"] <= 20 and abs(pages["zh"] - pages["en"]) <= 2, pages
    assert any("CJK" in font for font in pdf_fonts(printed["zh"]))
    for language, pdf in printed.items():
        first = np.asarray(Image.open(pdf_page_png(pdf, tmp_path / f"{language}.png", dpi=40)).convert("L"))
        ink = (first < 128).mean()
        assert 0.01 < ink < 0.3, (language, ink)  # text on a white page, neither blank nor a black box
        last = np.asarray(Image.open(pdf_page_png(pdf, tmp_path / f"{language}_last.png", page=pages[language],
                                                   dpi=40)))
        assert last.shape[1] > last.shape[0]  # the detailed tables close the report on landscape pages


def test_wide_tables_state_their_constant_columns_once(written):
    document = docx.Document(written["en"] / "report.docx")
    notes = [p.text for p in document.paragraphs if p.text.startswith("In every row: ")]
    assert any("horizon = 25" in n for n in notes), notes
    assert max(len(t.columns) for t in document.tables) <= 12  # the effects table had 16 columns
