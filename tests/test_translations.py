"""The Chinese edition keeps in step with the English one (fast lane: a few seconds).

The English messages of every page are extracted afresh from the current sources (Sphinx's
gettext builder, notebooks not executed) and compared with the catalogues in
``locale/zh_CN/LC_MESSAGES/``: a new or changed English paragraph, heading or table cell fails
here until ``make locale`` has brought it into its catalogue and someone has translated it
(changed messages arrive fuzzy, new ones empty; both fail). Translations must keep the English
message's markup: the same glued numbers, references, citations, code and maths.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from pathlib import Path

import polib
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MESSAGES = ROOT / "locale" / "zh_CN" / "LC_MESSAGES"
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import bilingual  # noqa: E402
import editions  # noqa: E402

FIX = "run `make locale`, translate the new or fuzzy messages in locale/zh_CN/LC_MESSAGES/, and commit them"
ROLE = re.compile(r"\{([\w:.-]+)\}`([^`]*)`")
CODE = re.compile(r"(?<![}`])`([^`]+)`(?!`)")
MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def toc_pages() -> list[str]:
    """Every page of _toc.yml (``book/intro``, ``notebooks/youxi_itsa`` ...)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            pages.append(chapter["file"])
            pages += [section["file"] for section in chapter.get("sections", [])]
    return [str(Path(page).with_suffix("")) for page in pages]


def catalogue(page: str) -> polib.POFile:
    return polib.pofile(str(MESSAGES / f"{page}.po"))


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> Path:
    """The English messages of the current sources, one .pot file per page."""
    return editions.extract(tmp_path_factory.mktemp("gettext"))


def test_every_page_has_a_catalogue():
    missing = [page for page in toc_pages() if not (MESSAGES / f"{page}.po").exists()]
    assert not missing, f"pages without a Chinese catalogue: {missing}; {FIX}"


def test_catalogues_hold_the_current_english(templates):
    """Each catalogue has exactly the messages its page has now (none missing, none stale)."""
    out_of_step = []
    for pot in sorted(templates.rglob("*.pot")):
        page = str(pot.relative_to(templates).with_suffix(""))
        if not (MESSAGES / f"{page}.po").exists():
            out_of_step.append(f"{page}: no catalogue")
            continue
        english = {entry.msgid for entry in polib.pofile(str(pot))}
        chinese = {entry.msgid for entry in catalogue(page) if not entry.obsolete}
        for msgid in sorted(english - chinese):
            out_of_step.append(f"{page}: new or changed English text: {msgid[:80]!r}")
        for msgid in sorted(chinese - english):
            out_of_step.append(f"{page}: the catalogue has text the page no longer has: {msgid[:80]!r}")
    assert not out_of_step, "\n".join(out_of_step[:40]) + f"\n({len(out_of_step)} in all) {FIX}"


def test_every_message_is_translated():
    """No empty, fuzzy or obsolete message in any catalogue."""
    found = editions.problems()
    assert not found, "\n".join(found[:40]) + f"\n({len(found)} in all) {FIX}"


def _markup(text: str) -> dict[str, Counter]:
    roles = ROLE.findall(text)

    def target(content: str) -> str:
        match = re.search(r"<([^<>]+)>\s*$", content)
        return (match.group(1) if match else content).strip()

    return {
        # glued values stay glued, with their format: no number typed by hand in a translation
        "glued values": Counter(f"{{{name}}}`{content}`" for name, content in roles if name.startswith("glue")),
        # references, citations and equations keep their targets (their titles may be translated)
        "reference targets": Counter(f"{name}:{target(content)}" for name, content in roles
                                     if not name.startswith("glue") and name != "term"),
        "glossary references": Counter(name for name, _ in roles if name == "term"),
        "code": Counter(CODE.findall(ROLE.sub("", text))),
        "maths": Counter(MATH.findall(ROLE.sub("", text))),
        "links": Counter(LINK.findall(text)),
    }


@pytest.mark.parametrize("page", toc_pages())
def test_translations_keep_the_markup(page):
    """A translation changes the words only: the same glue roles, reference targets, code and maths."""
    if not (MESSAGES / f"{page}.po").exists():
        pytest.skip("no catalogue (reported by test_every_page_has_a_catalogue)")
    differences = []
    for entry in catalogue(page):
        if not entry.msgstr or entry.obsolete:
            continue
        english, chinese = _markup(entry.msgid), _markup(entry.msgstr)
        for kind in english:
            if english[kind] != chinese[kind]:
                missing = english[kind] - chinese[kind]
                extra = chinese[kind] - english[kind]
                differences.append(f"{page}.po:{entry.linenum}: {kind} differ (missing {dict(missing)}, "
                                   f"added {dict(extra)}) in {entry.msgid[:60]!r}")
    assert not differences, "\n".join(differences)


BLOCK_START = re.compile(r"(\d+[.)]|[-+*>]|#+)\s")


@pytest.mark.parametrize("page", toc_pages())
def test_translations_stay_inline(page):
    """A translated message is parsed on its own: "1. 数据" would become a list, not a heading."""
    if not (MESSAGES / f"{page}.po").exists():
        pytest.skip("no catalogue (reported by test_every_page_has_a_catalogue)")
    wrong = [f"{page}.po:{e.linenum}: {e.msgstr[:40]!r} starts like a list or heading; escape it "
             f"(for example 1\\. instead of 1.)" for e in catalogue(page)
             if e.msgstr and BLOCK_START.match(e.msgstr)]
    assert not wrong, "\n".join(wrong)


def test_chapter_notebooks_take_the_book_language():
    """A notebook with a `language` parameter draws in the edition's language when the book is built."""
    for notebook in sorted((ROOT / "notebooks").glob("*.py")):
        text = notebook.read_text(encoding="utf-8")
        if re.search(r"^language = \"en\"", text, flags=re.M):
            assert f'os.environ.get("{editions.LANGUAGE_VARIABLE}", language)' in text, notebook.name


def test_zh_configuration_is_the_english_one_plus_overrides(tmp_path):
    english = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    path = editions.write_config(yaml.safe_load((ROOT / "_config_zh.yml").read_text(encoding="utf-8")),
                                 tmp_path / "_config.yml")
    chinese = yaml.safe_load(path.read_text(encoding="utf-8"))
    config = chinese["sphinx"]["config"]
    assert config["language"] == "zh_CN" and config["html_search_language"] == "zh"
    assert config["locale_dirs"] == ["locale/"] and (ROOT / "locale" / "zh_CN").is_dir()
    assert chinese["execute"]["execute_notebooks"] == english["execute"]["execute_notebooks"]
    assert chinese["sphinx"]["extra_extensions"] == english["sphinx"]["extra_extensions"]
    for name, folder in chinese["sphinx"]["local_extensions"].items():
        assert os.path.isabs(folder) and (Path(folder) / f"{name}.py").exists()
    options = config["html_theme_options"]
    assert set(english["sphinx"]["config"]["html_theme_options"]) <= set(options)


def test_counterpart_links():
    assert bilingual.counterpart_url("book/intro", "en") == "../zh/book/intro.html"
    assert bilingual.counterpart_url("notebooks/youxi_itsa", "zh_CN") == "../../notebooks/youxi_itsa.html"
    assert bilingual.counterpart_url("search", "zh_CN") == "../search.html"
    terms = bilingual.handbook_terms()
    assert {"双重差分", "间断时间序列", "按人头付费", "医保局", "医共体"} <= set(terms)
