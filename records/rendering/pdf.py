"""Printable records as PDF (WeasyPrint), from templates shared with the screen.

Prints never fetch anything: the stylesheet is read from the app's static files
and every URL in the document is refused, so a record cannot pull in outside content.
"""

from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string

PRINT_STYLESHEET = "records/print.css"


def render_pdf(template_name: str, context: dict, *, request=None) -> bytes:
    """Render a template to PDF bytes with the print stylesheet."""
    # WeasyPrint takes about a second to import: only pay for it when printing.
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    no_fetching = URLFetcher(allowed_protocols=())
    html = render_to_string(template_name, context, request=request)
    found = finders.find(PRINT_STYLESHEET)
    if found is None:
        raise ImproperlyConfigured(f"The print stylesheet {PRINT_STYLESHEET} is not among the static files.")
    stylesheet = CSS(string=Path(found).read_text(), url_fetcher=no_fetching)
    return HTML(string=html, url_fetcher=no_fetching).write_pdf(stylesheets=[stylesheet])
