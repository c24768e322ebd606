"""Sphinx extension for the handbook's two editions (English and 简体中文).

Links between the editions
--------------------------

The English site is ``_build/html/`` and the Chinese one ``_build/html/zh/`` (built from the
same sources by ``book/_ext/editions.py``), so ``book/intro.html`` and ``zh/book/intro.html``
are the same page. Each page gets a link in its article header ("中文" on an English page,
"English" on a Chinese one) and a ``<link rel="alternate" hreflang=...>`` in its head.

Chinese search
--------------
In the Chinese edition the search index's word splitter (jieba) is given the handbook's terms,
from ``data/terms.csv`` and the glossary, so that a search for 双重差分 or 按人头付费 finds the
pages that use the term rather than only its two-character pieces.

Exercise titles
---------------
sphinx-exercise builds an exercise's title (``{exercise} A moving Spring Festival``) without the
source information that Sphinx's gettext machinery needs, so the title would be neither
extracted nor translated. A transform gives it its text as source before messages are read
(the translation then happens at read time like any other message), and, for the message
extraction only, a post-transform keeps a copy of each title where the gettext builder finds it
(sphinx-exercise later folds the title into "Exercise 3 (...)"). sphinx-exercise also keeps a
copy of each exercise, made before translation, to title its solution ("Solution to Exercise
3 (...)"); that copy is refreshed once the page has been read, so solutions carry the
translated title too.

Part captions
-------------
The captions of the table of contents ("Getting started", ...) are in the root page's catalogue,
but sphinx-external-toc inserts its toctrees after Sphinx has translated the page; a transform
right after it translates the captions from the same catalogue.

Glued numbers in translated notebook text
-----------------------------------------
A translation keeps the English message's roles as they are, so a notebook's own
``{glue:text}`key:.1f``` stays in its Chinese sentence. Sphinx parses a translated message as
a separate small document, in which MyST-NB no longer has the notebook's outputs at hand; such
a role is therefore read as a reference to the notebook's stored glue data
(``notebook.py::key:.1f``), which MyST-NB resolves after reading, to the same number.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
HAN = re.compile(r"[\u4e00-\u9fff]{2,}")
COUNTERPARTS = {
    # this edition -> (folder of the other edition relative to this site's root, its language, link)
    "en": ("zh/", "zh-CN", "中文", "本页的中文版"),
    "zh": ("../", "en", "English", "This page in English"),
}
TEMPLATE = "payreform-language.html"


def edition(language: str | None) -> str:
    """``"zh"`` for a Chinese build (``zh_CN``, ``zh``), otherwise ``"en"``."""
    return "zh" if (language or "en").lower().startswith("zh") else "en"


def counterpart_url(pagename: str, language: str | None) -> str:
    """Relative URL of ``pagename`` in the other edition.

    >>> counterpart_url("book/intro", "en")
    '../zh/book/intro.html'
    >>> counterpart_url("book/intro", "zh_CN")
    '../../book/intro.html'
    >>> counterpart_url("search", "en")
    'zh/search.html'
    """
    up = "../" * pagename.count("/")
    return f"{up}{COUNTERPARTS[edition(language)][0]}{pagename}.html"


def handbook_terms(root: Path = ROOT) -> list[str]:
    """Chinese terms of the term list and the glossary's entries (runs of two or more Han characters)."""
    words: set[str] = set()
    terms = root / "data" / "terms.csv"
    if terms.exists():
        import csv

        with open(terms, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                words.update(HAN.findall(row.get("zh", "")))
    glossary = root / "book" / "glossary.md"
    if glossary.exists():
        for line in glossary.read_text(encoding="utf-8").splitlines():
            if line and not line[0].isspace():  # a glossary entry's name, not its definition
                words.update(HAN.findall(line))
    return sorted(words)


def _configure(app, config) -> None:
    config.templates_path = [*config.templates_path, str(HERE / "templates")]
    options = dict(config.html_theme_options or {})
    header = options.get("article_header_end") or ["article-header-buttons.html"]
    if isinstance(header, str):
        header = [item.strip() for item in header.split(",") if item.strip()]
    if TEMPLATE not in header:
        options["article_header_end"] = [TEMPLATE, *header]
    config.html_theme_options = options


def _search_dictionary(app) -> None:
    """Chinese edition: a jieba user dictionary with the handbook's terms for the search index."""
    if edition(app.config.language) != "zh" or app.builder.format != "html":
        return
    path = Path(app.doctreedir) / "jieba_terms.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{word}\n" for word in handbook_terms()), encoding="utf-8")
    app.config.html_search_options = {**(app.config.html_search_options or {}), "dict": str(path)}


def _page_context(app, pagename, templatename, context, doctree) -> None:
    folder, hreflang, label, title = COUNTERPARTS[edition(app.config.language)]
    url = counterpart_url(pagename, app.config.language)
    context["payreform_counterpart"] = {"url": url, "hreflang": hreflang, "label": label, "title": title}
    context["metatags"] = context.get("metatags", "") + (
        f'\n    <link rel="alternate" hreflang="{hreflang}" href="{url}" />')


def _glue_in_translations() -> None:
    """Same-notebook glue roles in a translated message: resolve them from the glue cache."""
    from myst_nb.ext.glue import roles

    for role, default_format in ((roles.PasteTextRole, ":s"), (roles.PasteRoleAny, "")):
        original = role.run
        if getattr(original, "payreform_translated", False):
            continue

        def run(self, _original=original, _default=default_format):
            document = self.document
            source = str(getattr(document, "current_source", "") or "")
            if "::" not in self.text and "nb_renderer" not in document and source.endswith("<translated>"):
                env = document.settings.env
                # `key` without a format means `key:s` for glue:text; spell it out, since the
                # path's own "::" would otherwise be read as the key/format separator
                spec = "" if ":" in self.text else _default
                self.text = f"{Path(env.doc2path(env.docname)).name}::{self.text}{spec}"
            return _original(self)

        run.payreform_translated = True
        role.run = run


class TranslatedToctreeCaptions(SphinxTransform):
    """Translate the captions of the toctrees that sphinx-external-toc inserts (after Locale)."""

    default_priority = 101  # sphinx-external-toc's InsertToctrees runs at 100

    def apply(self, **kwargs) -> None:
        if (self.config.language or "en") == "en":
            return
        from sphinx import addnodes
        from sphinx.locale import init as init_locale
        from sphinx.util.i18n import docname_to_domain

        toctrees = [node for node in self.document.findall(addnodes.toctree) if node.get("caption")]
        if not toctrees:
            return
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        folders = [str(Path(self.env.srcdir) / folder) for folder in self.config.locale_dirs]
        catalog, found = init_locale(folders, self.config.language, domain)
        if found:
            for node in toctrees:
                node["caption"] = catalog.gettext(node["caption"])


class TranslatableExerciseTitles(SphinxTransform):
    """Give sphinx-exercise's title nodes a source, so gettext extracts and translates them."""

    default_priority = 5  # before Sphinx's Locale transform (20)

    def apply(self, **kwargs) -> None:
        try:
            from sphinx_exercise.nodes import exercise_subtitle
        except ImportError:  # pragma: no cover - the book always loads sphinx-exercise
            return
        for node in self.document.findall(exercise_subtitle):
            if not node.rawsource and node.astext().strip():
                node.rawsource = node.astext()
                parent = node.parent
                while parent is not None and not (node.source and node.line):
                    node.source = node.source or parent.source
                    node.line = node.line or parent.line
                    parent = parent.parent


class ExerciseTitlesForGettext(SphinxPostTransform):
    """Message extraction only: a copy of each exercise title, before sphinx-exercise folds it."""

    default_priority = 19  # sphinx-exercise's ResolveTitlesInExercises runs at 20
    builders = ("gettext",)

    def run(self, **kwargs) -> None:
        try:
            from sphinx_exercise.nodes import exercise_subtitle
        except ImportError:  # pragma: no cover
            return
        for node in list(self.document.findall(exercise_subtitle)):
            if not node.rawsource:
                continue
            copy = nodes.paragraph(node.rawsource, node.astext())
            copy.source, copy.line = node.source, node.line
            copy.uid = ""  # the gettext builder adds only nodes with a uid (as for its toctree messages)
            exercise = node.parent.parent if node.parent is not None else None
            if exercise is not None and exercise.parent is not None:
                exercise.parent.insert(exercise.parent.index(exercise), copy)


def _refresh_exercise_copies(app, doctree) -> None:
    """Replace sphinx-exercise's pre-translation copies of this page's exercises by their final form."""
    registry = getattr(app.env, "sphinx_exercise_registry", None)
    if not registry:
        return
    try:
        from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node
    except ImportError:  # pragma: no cover
        return
    for node in doctree.findall(lambda n: isinstance(n, (exercise_node, exercise_enumerable_node))):
        entry = registry.get(node.get("label", ""))
        if entry is not None and entry.get("docname") == app.env.docname:
            entry["node"] = node.deepcopy()


def setup(app):
    _glue_in_translations()
    app.connect("doctree-read", _refresh_exercise_copies)
    app.add_transform(TranslatableExerciseTitles)
    app.add_transform(TranslatedToctreeCaptions)
    app.add_post_transform(ExerciseTitlesForGettext)
    app.connect("config-inited", _configure)
    app.connect("builder-inited", _search_dictionary)
    app.connect("html-page-context", _page_context)
    app.add_css_file("payreform-language.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
