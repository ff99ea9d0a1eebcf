"""Prints fetch nothing, the first print of a process or any later one (records/rendering/pdf.py)."""

import pytest

from records.rendering import pdf
from tests.pdfs import pdf_text


@pytest.fixture
def a_record_pointing_outside(tmp_path, monkeypatch):
    """A record whose text links a stylesheet from the disk, which would add a word if it were read."""
    outside = tmp_path / "outside.css"
    outside.write_text('p::after { content: " FETCHED" }')
    html = f'<html><head><link rel="stylesheet" href="{outside.as_uri()}"></head><body><p>Record</p></body></html>'
    monkeypatch.setattr(pdf, "render_to_string", lambda *args, **kwargs: html)
    return html


def test_the_outside_stylesheet_would_show_if_it_were_fetched(a_record_pointing_outside):
    from weasyprint import HTML

    assert "FETCHED" in pdf_text(HTML(string=a_record_pointing_outside).write_pdf())


def test_no_print_fetches_a_url(a_record_pointing_outside):
    for _ in range(3):
        text = pdf_text(pdf.render_pdf("any.html", {}))
        assert "Record" in text
        assert "FETCHED" not in text
