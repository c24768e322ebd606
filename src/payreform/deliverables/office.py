"""Deliverables an analyst can hand in: ``tables.xlsx`` (Excel) and ``report.docx`` (Word).

Both are written from a chapter's result object (:class:`payreform.chapters.result.ChapterResult`)
after its figures are saved, in English or Chinese (``language``). Numbers are stored as numbers
with formats in Excel; in Word each estimate is shown as "β (95% CI)" with its p-value, as
Chinese journals print them. Cells suppressed for disclosure are empty in both files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from payreform.deliverables.terms import label

SHEET_NAME_LIMIT = 31
DOCX_ROW_LIMIT = 120
"""Word tables longer than this show their first rows and point to tables.xlsx."""


def number_format(column: str, values: pd.Series) -> str:
    """Excel number format for a column: p-values to 4 places, counts as integers, else 4 significant
    decimals (thousands separators for large values).

    Examples
    --------
    >>> number_format("p_value", pd.Series([0.01])), number_format("n_obs", pd.Series([46]))
    ('0.0000', '0')
    """
    if "p_value" in column or column.endswith("_p"):
        return "0.0000"
    finite = pd.to_numeric(values, errors="coerce").dropna()
    if pd.api.types.is_integer_dtype(values) or (len(finite) and np.all(np.mod(finite, 1) == 0)
                                                  and column in {"n_obs", "rows", "persons", "horizon"}):
        return "0"
    if len(finite) and finite.abs().max() >= 1000:
        return "#,##0.00"
    return "0.0000"


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]\*\?/\\:]", "_", name)[:SHEET_NAME_LIMIT] or "table"
    candidate, i = base, 2
    while candidate in used:
        suffix = f"_{i}"
        candidate, i = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix, i + 1
    used.add(candidate)
    return candidate


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, str)):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (tuple, list)):
        return ", ".join(str(v) for v in value)
    return str(value)


def settings_rows(result, language: str) -> list[tuple[str, Any, str]]:
    """(parameter, value, source) rows, then the data's file, rows and checksum."""
    rows = [(r.parameter, r.value, label(r.source, language)) for r in result.settings_table().itertuples()]
    info = result.prepared.data
    rows += [(label("chapter", language), result.chapter, ""),
             (label("file", language), info.get("file", info.get("source", "")), ""),
             (label("rows", language), info.get("rows"), ""),
             (label("sha256", language), info.get("sha256"), ""),
             ("payreform", version("payreform"), "")]
    return rows


def write_xlsx(result, path: str | Path, language: str = "en") -> Path:
    """Write every table of ``result`` to ``path``: a settings sheet, then one sheet per table.

    Numbers stay numbers (with a number format), missing or suppressed values are empty cells,
    headers are in ``language``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    book = Workbook()
    sheet = book.active
    sheet.title = label("settings", language)
    used = {sheet.title}
    bold = Font(bold=True)
    sheet.append([label("parameter", language), label("value", language), label("source", language)])
    for cell in sheet[1]:
        cell.font = bold
    for row in settings_rows(result, language):
        sheet.append([_cell(v) for v in row])
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 40
    for name, table in result.tables().items():
        if name == "settings":
            continue
        ws = book.create_sheet(_sheet_name(name, used))
        ws.append([label(str(c), language) for c in table.columns])
        for cell in ws[1]:
            cell.font = bold
        for record in table.itertuples(index=False):
            ws.append([_cell(v) for v in record])
        for j, column in enumerate(table.columns, start=1):
            if pd.api.types.is_numeric_dtype(table[column]) and not pd.api.types.is_bool_dtype(table[column]):
                fmt = number_format(str(column), table[column])
                for i in range(2, len(table) + 2):
                    ws.cell(row=i, column=j).number_format = fmt
            letter = ws.cell(row=1, column=j).column_letter
            ws.column_dimensions[letter].width = min(max(10, len(str(column)) + 2), 40)
        ws.freeze_panes = "A2"
    book.save(path)
    return path


def fmt_estimate(estimate: float, low: float, high: float) -> str:
    """"β (95% CI)" as Chinese journals print it, with decimals suited to the size of β.

    Examples
    --------
    >>> fmt_estimate(-14.861, -22.15, -7.57), fmt_estimate(0.0123, -0.001, 0.025)
    ('−14.86 (−22.15, −7.57)', '0.0123 (−0.0010, 0.0250)')
    """
    if estimate is None or not math.isfinite(estimate):
        return ""
    size = abs(estimate)
    digits = 1 if size >= 1000 else 2 if size >= 1 else 4
    def show(v: float) -> str:
        return "" if v is None or not math.isfinite(v) else f"{v:,.{digits}f}".replace("-", "−")
    return f"{show(estimate)} ({show(low)}, {show(high)})"


def fmt_p(p: float) -> str:
    """A p-value for a table: ``<0.001`` or three decimals.

    Examples
    --------
    >>> fmt_p(0.0002), fmt_p(0.0412)
    ('<0.001', '0.041')
    """
    if p is None or not math.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _plain(markdown: str) -> list[tuple[str, bool]]:
    """Markdown text as runs (text, bold): **x** becomes bold, `x` and $x$ lose their marks."""
    text = re.sub(r"`([^`]*)`", r"\1", markdown).replace("$", "")
    parts = re.split(r"(\*\*[^*]+\*\*)", text)
    return [(p[2:-2], True) if p.startswith("**") else (p, False) for p in parts if p]


def fmt_number(value: float, column: str = "") -> str:
    """A number for a Word table: p-values as :func:`fmt_p`, whole numbers with separators, others
    to about four significant digits without exponents (down to 1e-4).

    Examples
    --------
    >>> fmt_number(12345.0), fmt_number(123.456), fmt_number(-0.012341), fmt_number(0.02, "p_value")
    ('12,345', '123.5', '−0.01234', '0.020')
    """
    if not math.isfinite(value):
        return ""
    if "p_value" in column or column.endswith("_p"):
        return fmt_p(value)
    size = abs(value)
    if value == round(value) and size < 1e15:
        text = f"{value:,.0f}"
    elif size >= 1000:
        text = f"{value:,.1f}"
    elif size >= 1e-4 or size == 0:
        digits = max(0, 3 - int(math.floor(math.log10(size)))) if size else 0
        text = f"{value:.{digits}f}"
    else:
        text = f"{value:.2e}"
    return text.replace("-", "−")


def _breakable(text: str) -> str:
    """Let Word break long identifiers (``outpatient_emergency_visits``) after underscores."""
    return text.replace("_", "_\u200b")


def _text_width(text: str) -> int:
    """Width of ``text`` in Latin characters (a Chinese character counts two)."""
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in text)


def _value_width(text: str) -> int:
    """Room a cell needs: numbers whole (they must not wrap), words up to 16 characters per line."""
    if re.fullmatch(r"[−\-+\d,.<>%e ()]+", text):
        return _text_width(text)
    return min(14, max([_text_width(w) for w in re.split(r"[\s_]", text)] + [0]))


def _readable(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The table without columns that hold nothing, and (in wide tables of several rows) without the
    columns that hold one value in every row, returned apart to be stated once under the table."""
    values = frame.apply(lambda column: column.map(_cell))
    keep = [c for c in frame.columns if not values[c].map(lambda v: v is None or v == "").all()]
    constant = {}
    if len(frame) > 1 and len(keep) > 6:
        for column in keep[1:]:
            distinct = values[column].map(repr).unique()
            if len(distinct) == 1 and values[column].iloc[0] is not None:
                constant[column] = values[column].iloc[0]
        keep = [c for c in keep if c not in constant]
    return frame[keep], constant


TABLE_STYLE = "Light Grid Accent 1"
"""Word's built-in table style of every table (header row and first column emphasised)."""


def _append_table(document, rows: list[list[str]], widths: list[int], half_points: int) -> None:
    """Append a table to ``document`` as one piece of WordprocessingML (python-docx builds tables
    cell by cell, which takes seconds for a few hundred rows). Fixed layout: the grid's column
    widths (read by LibreOffice) and each cell's width (read by Word) are the same."""
    from xml.sax.saxutils import escape

    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    style = document.styles[TABLE_STYLE].style_id
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    run = f'<w:rPr><w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>'
    body = "".join(
        "<w:tr>" + "".join(
            f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr><w:p><w:r>{run}'
            f'<w:t xml:space="preserve">{escape(_breakable(text))}</w:t></w:r></w:p></w:tc>'
            for text, w in zip(row, widths, strict=True)) + "</w:tr>"
        for row in rows)
    table = parse_xml(
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="{style}"/><w:tblW w:w="0" w:type="auto"/>'
        '<w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" '
        f'w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{body}</w:tbl>')
    document.element.body._insert_tbl(table)


def _table(document, frame: pd.DataFrame, language: str, note: str | None = None, width_inches: float = 6.5) -> None:
    """``frame`` as a Word table: headers in ``language``, empty columns dropped, column widths by
    content, a smaller font for wide tables, at most :data:`DOCX_ROW_LIMIT` rows."""
    from docx.shared import Pt

    readable, constant = _readable(frame)
    shown = readable.head(DOCX_ROW_LIMIT)
    headers = [label(str(c), language) for c in shown.columns]
    body = []
    for record in shown.itertuples(index=False):
        row = []
        for column, value in zip(shown.columns, record, strict=True):
            value = _cell(value)
            if isinstance(value, float):
                row.append(fmt_number(value, str(column)))
            else:
                row.append("" if value is None else str(value))
        body.append(row)
    weights = [max([min(_text_width(w), 14) for w in header.split()] + [_value_width(r[j]) for r in body] + [4])
               + 2 for j, header in enumerate(headers)]  # + 2: the cell's margins
    widths = [round(1440 * width_inches * w / sum(weights)) for w in weights]  # twentieths of a point
    half_points = 18 if len(headers) <= 6 else 16 if len(headers) <= 10 else 14
    _append_table(document, [headers, *body], widths, half_points)
    if constant:
        same = "; ".join(f"{label(str(k), language)} = {fmt_number(v, str(k)) if isinstance(v, float) else v}"
                         for k, v in constant.items())
        run = document.add_paragraph().add_run(("每行相同：" if language == "zh" else "In every row: ") + same)
        run.font.size = Pt(8)
    if len(frame) > DOCX_ROW_LIMIT:
        document.add_paragraph(note or f"(first {DOCX_ROW_LIMIT} of {len(frame)} rows; all in tables.xlsx)")


def estimates_for_word(estimates: pd.DataFrame, language: str,
                       term_labels: Mapping[str, str] | None = None) -> dict[tuple[str, str], pd.DataFrame]:
    """One small table per model and outcome: term | β (95% CI) | p-value."""
    tables = {}
    for (model, outcome), rows in estimates.groupby(["model", "outcome"], sort=False):
        names = [(term_labels or {}).get(t) or label(str(t), language) for t in rows["term"]]
        tables[(str(model), str(outcome))] = pd.DataFrame({
            label("term", language): names,
            label("estimate_ci", language): [fmt_estimate(e, lo, hi) for e, lo, hi in
                                             zip(rows["estimate"], rows["ci_low"], rows["ci_high"], strict=True)],
            label("p_value", language): [fmt_p(p) for p in rows["p_value"]],
        })
    return tables


CHINESE_FONT = "SimSun"
"""East Asian font named in Chinese reports (宋体, on every Chinese Windows; elsewhere the reader's
fallback, such as Noto Serif CJK SC, stands in)."""


def _chinese_styles(document) -> None:
    """Mark every style's East Asian text as Simplified Chinese in :data:`CHINESE_FONT`, so that
    Word and LibreOffice pick Chinese (not Japanese) glyph forms."""
    from docx.oxml.ns import qn

    for style in document.styles:
        element = getattr(style, "element", None)
        if element is None or style.type != 1:  # paragraph styles only
            continue
        properties = element.get_or_add_rPr()
        fonts = properties.find(qn("w:rFonts"))
        if fonts is None:
            fonts = properties.makeelement(qn("w:rFonts"), {})
            properties.append(fonts)
        fonts.set(qn("w:eastAsia"), CHINESE_FONT)
        fonts.attrib.pop(qn("w:eastAsiaTheme"), None)
        lang = properties.find(qn("w:lang"))
        if lang is None:
            lang = properties.makeelement(qn("w:lang"), {})
            properties.append(lang)
        lang.set(qn("w:eastAsia"), "zh-CN")


def _landscape(document) -> float:
    """Start a landscape section on a new page; returns the text width in inches."""
    from docx.enum.section import WD_ORIENT, WD_SECTION

    section = document.add_section(WD_SECTION.NEW_PAGE)
    if section.orientation != WD_ORIENT.LANDSCAPE:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    return (section.page_width - section.left_margin - section.right_margin) / 914400


def write_docx(result, path: str | Path, figures: str | Path, language: str = "en", title: str = "") -> Path:
    """Write ``report.docx``.

    The report (portrait): title, data line, summary, warnings, settings, each model's estimates
    as "β (95% CI)" with p-values, every figure in ``figures``, the method and the limitations.
    Then, on landscape pages, every other table of the result (diagnostics, robustness, ...) as an
    appendix. The summary and warnings are sentences generated from the numbers in English; a
    Chinese report gives them under a heading that says so.
    """
    from docx import Document
    from docx.shared import Inches

    path = Path(path)
    document = Document()
    if language == "zh":
        _chinese_styles(document)
    document.add_heading(label(title, language) if title else result.chapter, level=0)
    document.add_paragraph(result.data_line().replace("`", ""))
    if result.summary():
        document.add_heading(label("summary" if language == "en" else "summary_generated_en", language), level=1)
        for block in result.summary().split("\n\n"):
            paragraph = document.add_paragraph()
            for text, bold in _plain(block):
                paragraph.add_run(text).bold = bold
    if result.warnings():
        document.add_heading(label("warnings", language), level=2)
        for warning in result.warnings():
            document.add_paragraph(warning, style="List Bullet")
    document.add_heading(label("settings", language), level=1)
    settings = pd.DataFrame(settings_rows(result, language),
                            columns=[label("parameter", language), label("value", language), label("source", language)])
    _table(document, settings, language)
    document.add_heading(label("tables", language), level=1)
    for (model, outcome), table in estimates_for_word(result.estimates(), language,
                                                      result.term_labels(language)).items():
        document.add_heading(f"{outcome} — {label(model, language)}", level=2)
        _table(document, table, language)
    pictures = sorted(Path(figures).glob("*.png"))
    if pictures:
        document.add_heading(label("figures", language), level=1)
        for picture in pictures:
            document.add_picture(str(picture), width=Inches(6.2))
            document.add_paragraph(picture.stem.replace("_", " "), style="Caption")
    method = result.method_text(language)
    if method:
        document.add_heading(label("method", language), level=1)
        document.add_paragraph(method)
    limitations = result.limitations(language)
    if limitations:
        document.add_heading(label("limitations", language), level=1)
        for item in limitations:
            document.add_paragraph(item, style="List Bullet")
    others = {name: table for name, table in result.tables().items()
              if name not in {"estimates", "settings"} and not table.empty}
    if others:
        width = _landscape(document)
        document.add_heading(label("detailed_tables", language), level=1)
        for name, table in others.items():
            document.add_heading(label(name, language), level=2)
            _table(document, table, language, width_inches=width)
    document.save(path)
    return path
