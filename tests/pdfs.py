"""Reading back what a print says (PDF bytes from a view or records.rendering.pdf)."""

import io

from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    """The PDF's text, line breaks and runs of spaces as single spaces (a table cell wraps where it likes)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())
