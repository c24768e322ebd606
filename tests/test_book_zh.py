"""The Chinese edition (中文版): built from clean with warnings as errors, readable offline, in
Chinese with Chinese figures, linked page by page to the English edition, and checked in headless
Chromium (the landing page, a chapter, and a search for a Chinese term).

The browser part uses Debian's Chromium like tests/test_book.py; PAYREFORM_SKIP_BROWSER=1 skips it.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import sys
import threading
from pathlib import Path

import pytest
from test_book import _Quiet, open_page
from test_translations import toc_pages

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import editions  # noqa: E402

pytestmark = pytest.mark.slow

PAGES = [f"{page}.html" for page in toc_pages()]
HAN = re.compile(r"[\u4e00-\u9fff]")
TAGS = re.compile(r"<[^>]+>")


@pytest.fixture(scope="session")
def zh_site(tmp_path_factory) -> Path:
    """The Chinese edition built from a clean state (notebooks executed in Chinese) with -n -W."""
    output = tmp_path_factory.mktemp("book_zh")
    log = output / "build.log"
    status = editions.build("zh", output=output, extra=["-n", "-W", "--keep-going"], log=log)
    text = log.read_text(encoding="utf-8")
    assert status == 0, text[-6000:]
    assert "build succeeded" in text, text[-3000:]
    return output / "_build" / "html"


def article(site: Path, page: str) -> str:
    html = (site / page).read_text(encoding="utf-8")
    main = re.search(r'<article class="bd-article">(.*?)</article>', html, re.S)
    return main.group(1) if main else html


def test_every_page_is_built_in_chinese(zh_site):
    for page in PAGES:
        html = (zh_site / page).read_text(encoding="utf-8")
        assert '<html lang="zh-CN"' in html, page
        text = TAGS.sub(" ", article(zh_site, page))
        minimum = 10 if page == "book/references.html" else 150  # the bibliography itself is in English
        assert len(HAN.findall(text)) >= minimum, f"{page} has little Chinese text"


def test_headings_and_navigation_are_translated(zh_site):
    html = (zh_site / "book" / "intro.html").read_text(encoding="utf-8")
    for heading in ("评估中国医保支付方式改革", "读者对象", "尤溪：医保综合支付与间断时间序列"):
        assert heading in html, heading
    assert "Who it is for" not in html
    for caption in ("入门", "紧密型县域医共体：打包支付与双重差分", "参考资料"):  # the table of contents' parts
        assert f'<p aria-level="2" class="caption" role="heading"><span class="caption-text">{caption}</span>' in html, caption
    assert "Getting started" not in html


@pytest.mark.parametrize("page, minimum", [("book/youxi_itsa.html", 15), ("book/sanming_itsa.html", 15),
                                           ("book/ccmc_did.html", 12), ("book/gz_capitation.html", 12),
                                           ("notebooks/youxi_itsa.html", 3)])
def test_numbers_stay_glued(zh_site, page, minimum):
    """Translated sentences keep their glue roles: every number is filled in from the computation."""
    text = (zh_site / page).read_text(encoding="utf-8")
    assert "{glue" not in text and "glue:text" not in text
    assert text.count('class="pasted-text"') >= minimum


def test_notebooks_ran_in_chinese(zh_site):
    """The chapter notebooks executed with language = "zh" (their settings table says so)."""
    for page in ("notebooks/youxi_itsa.html", "notebooks/ccmc_did.html"):
        cells = [TAGS.sub("", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>",
                                                              (zh_site / page).read_text(encoding="utf-8"), re.S)]
        assert any(cells[i] == "language" and cells[i + 1] == "zh" for i in range(len(cells) - 1)), page


def test_exercise_titles_are_translated(zh_site):
    """Exercise titles, and the solutions that repeat them, are in Chinese."""
    html = (zh_site / "notebooks" / "youxi_itsa.html").read_text(encoding="utf-8")
    assert html.count("他们用的是哪种编码") >= 2 and "Which coding did they use" not in html


def test_site_needs_no_network(zh_site):
    remote = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.I)
    for html in zh_site.rglob("*.html"):
        assert not remote.search(html.read_text(encoding="utf-8")), f"{html.relative_to(zh_site)} loads a remote asset"
    assert (zh_site / "_static" / "mathjax" / "tex-chtml.js").exists()


def test_each_page_links_to_its_english_counterpart(zh_site):
    for page in PAGES:
        html = (zh_site / page).read_text(encoding="utf-8")
        up = "../" * (page.count("/") + 1)
        assert f'href="{up}{page}"' in html and 'class="btn btn-sm payreform-language"' in html, page
        assert f'<link rel="alternate" hreflang="en" href="{up}{page}"' in html, page


def test_search_index_has_chinese_terms(zh_site):
    text = (zh_site / "searchindex.js").read_text(encoding="utf-8")
    terms = json.loads(text[text.index("(") + 1:text.rindex(")")])["terms"]
    for term in ("双重差分", "间断时间序列", "按人头付费", "医保局", "平行趋势"):
        assert term in terms, term


@pytest.fixture(scope="session")
def zh_server(zh_site):
    handler = functools.partial(_Quiet, directory=str(zh_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_landing_page_in_the_browser(browser, zh_server):
    page, problems = open_page(browser, f"{zh_server}/book/intro.html")
    assert "评估中国医保支付方式改革" in page.title()
    assert page.locator("h1").first.inner_text().startswith("评估中国医保支付方式改革")
    switch = page.locator("a.payreform-language")
    assert switch.count() == 1 and switch.inner_text().strip() == "English"
    assert not problems, problems
    page.close()


def test_chapter_in_the_browser(browser, zh_server):
    page, problems = open_page(browser, f"{zh_server}/notebooks/youxi_itsa.html")
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.src, e.complete && e.naturalWidth > 0])")
    assert len(images) >= 6 and all(ok for _, ok in images), images
    page.wait_for_selector("mjx-container", timeout=15000)  # MathJax rendered offline
    assert page.locator(".solution.dropdown, details.solution, div.solution").count() >= 4
    assert page.locator("h1").first.inner_text().startswith("尤溪")
    assert not problems, problems
    page.close()


@pytest.mark.parametrize("term, expected", [("双重差分", "ccmc_did"), ("间断时间序列", "youxi_itsa")])
def test_search_for_a_chinese_term(browser, zh_server, term, expected):
    page, problems = open_page(browser, f"{zh_server}/search.html?q={term}")
    page.wait_for_selector("#search-results li, ul.search li", timeout=20000)
    links = page.eval_on_selector_all("#search-results li a, ul.search li a", "els => els.map(e => e.href)")
    assert any(expected in link for link in links), links
    assert not problems, problems
    page.close()
