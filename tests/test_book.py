"""The website: built from clean with warnings as errors, readable offline, and checked in a
headless browser (pages, images, console, maths, exercises, search).

The browser is Debian's Chromium driven by Playwright (no browser download). Set
PAYREFORM_SKIP_BROWSER=1 to skip the browser part on a machine without Chromium.
"""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PAGES = ["book/intro.html", "book/running_on_your_data.html", "book/youxi_itsa.html",
         "notebooks/youxi_itsa.html", "book/itsa_inference.html", "book/sanming_itsa.html",
         "notebooks/sanming_itsa.html",
         "notebooks/sanming_budget.html", "book/ccmc_did.html", "notebooks/ccmc_did.html",
         "book/gz_capitation.html", "notebooks/gz_capitation.html",
         "book/glossary.html", "book/references.html",
         "notebooks/reproducibility.html"]


@pytest.fixture(scope="session")
def built_site(root, tmp_path_factory) -> Path:
    """Build the book from a clean state into a temporary folder (notebooks executed afresh)."""
    output = tmp_path_factory.mktemp("book")
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(root), "--path-output",
               str(output), "-n", "-W", "--keep-going"]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=root)
    log = finished.stdout + finished.stderr
    assert finished.returncode == 0, log[-6000:]
    assert "build succeeded" in log, log[-3000:]
    return output / "_build" / "html"


def test_every_page_is_built(built_site):
    for page in PAGES:
        assert (built_site / page).exists(), page


def test_site_needs_no_network(built_site):
    """Scripts, styles, fonts and images are served from _build/html: no CDN."""
    remote = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.I)
    for html in built_site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert not remote.search(text), f"{html.relative_to(built_site)} loads a remote asset"
    assert (built_site / "_static" / "mathjax" / "tex-chtml.js").exists()


@pytest.mark.parametrize("page, minimum", [("book/youxi_itsa.html", 15), ("book/sanming_itsa.html", 15),
                                           ("book/ccmc_did.html", 12), ("book/gz_capitation.html", 12)])
def test_quoted_numbers_come_from_the_computation(built_site, page, minimum):
    """Every glue reference on a narrative page was filled in (none left as a raw role)."""
    text = (built_site / page).read_text(encoding="utf-8")
    assert "{glue" not in text and "glue:text" not in text
    assert text.count('class="pasted-text"') >= minimum


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server(built_site):
    handler = functools.partial(_Quiet, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def open_page(browser, url):
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    page.goto(url, wait_until="networkidle")
    return page, problems


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_with_images_and_no_errors(browser, server, path):
    page, problems = open_page(browser, f"{server}/{path}")
    images = page.eval_on_selector_all("img", "els => els.map(e => [e.src, e.complete && e.naturalWidth > 0])")
    broken = [src for src, ok in images if not ok]
    assert not broken, broken
    if path == "notebooks/youxi_itsa.html":
        assert len(images) >= 6, page.url
        page.wait_for_selector("mjx-container", timeout=15000)  # MathJax rendered offline
        assert page.locator(".solution.dropdown, details.solution, div.solution").count() >= 4
    assert not problems, problems
    page.close()


def test_search_finds_the_chapter(browser, server):
    page, problems = open_page(browser, f"{server}/search.html?q=Breusch")
    page.wait_for_selector("#search-results li, ul.search li", timeout=20000)
    links = page.eval_on_selector_all("#search-results li a, ul.search li a", "els => els.map(e => e.href)")
    assert any("youxi_itsa" in link for link in links), links
    assert not problems, problems
    page.close()
