"""Deliverables of a run: ``tables.xlsx`` and ``report.docx``, in English or Chinese, and figure labels
and the headers of tables shown in a notebook translated through the shared term list."""

from payreform.deliverables.figures import translate_figure
from payreform.deliverables.office import estimates_for_word, fmt_estimate, write_docx, write_xlsx
from payreform.deliverables.table_labels import header_label, label_tables, relabel_html
from payreform.deliverables.terms import LANGUAGES, label, term_table, translation

__all__ = ["LANGUAGES", "estimates_for_word", "fmt_estimate", "header_label", "label", "label_tables",
           "relabel_html", "term_table", "translate_figure", "translation", "write_docx", "write_xlsx"]
