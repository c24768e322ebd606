"""Pictures of a Word report's pages, for the book and for visual checks in the tests.

LibreOffice (Debian's ``libreoffice-writer-nogui``) lays the ``.docx`` out as a PDF, as Word
would print it, and Poppler's ``pdftoppm`` (``poppler-utils``) turns a page into a PNG. Both are
installed by ``make`` when it runs as root; elsewhere :func:`missing_tools` names what to install.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from payreform.errors import PayreformError

TOOLS = {"soffice": "libreoffice-writer-nogui", "pdftoppm": "poppler-utils", "pdfinfo": "poppler-utils",
         "pdffonts": "poppler-utils"}
"""Programs used here and the Debian package of each."""


def missing_tools() -> list[str]:
    """The Debian packages still to install for :func:`docx_to_pdf` and :func:`pdf_page_png` (empty if none).

    Examples
    --------
    >>> isinstance(missing_tools(), list)
    True
    """
    return sorted({package for program, package in TOOLS.items() if shutil.which(program) is None})


def _require() -> None:
    missing = missing_tools()
    if missing:
        raise PayreformError(f"rendering a Word report needs {' and '.join(missing)}: install them "
                             f"(apt-get install {' '.join(missing)}; `make book` does it when run as root)")


def docx_to_pdf(docx: str | Path, directory: str | Path) -> Path:
    """Lay ``docx`` out with LibreOffice and write the PDF into ``directory`` (returned)."""
    _require()
    docx, directory = Path(docx), Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:  # a private profile: runs never share state
        finished = subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
             "--outdir", str(directory), str(docx)], capture_output=True, text=True, timeout=300)
    pdf = directory / (docx.stem + ".pdf")
    if finished.returncode != 0 or not pdf.exists():
        raise PayreformError(f"LibreOffice could not convert {docx.name}: {finished.stderr.strip()[-300:]}")
    return pdf


def pdf_pages(pdf: str | Path) -> int:
    """Number of pages of ``pdf``."""
    _require()
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def pdf_fonts(pdf: str | Path) -> list[str]:
    """Names of the fonts embedded in ``pdf`` (without the subset prefix)."""
    _require()
    lines = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()
    return [line.split()[0].split("+")[-1] for line in lines[2:] if line.strip()]


def pdf_page_png(pdf: str | Path, png: str | Path, page: int = 1, dpi: int = 80) -> Path:
    """Page ``page`` of ``pdf`` as the PNG ``png`` at ``dpi`` dots per inch."""
    _require()
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(dpi), "-png", "-singlefile",
                    str(pdf), str(png.with_suffix(""))], capture_output=True, check=True)
    return png


def docx_page_png(docx: str | Path, png: str | Path, page: int = 1, dpi: int = 80) -> Path:
    """Page ``page`` of the Word report ``docx`` as the PNG ``png`` (through a PDF, as printed)."""
    with tempfile.TemporaryDirectory() as directory:
        return pdf_page_png(docx_to_pdf(docx, directory), png, page, dpi)


__all__ = ["TOOLS", "docx_page_png", "docx_to_pdf", "missing_tools", "pdf_fonts", "pdf_page_png", "pdf_pages"]
