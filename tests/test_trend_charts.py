from datetime import date

from records.rendering.trends import bp_chart, headache_days_chart, pain_chart


def test_charts_stay_plain_inline_svg_after_the_pdf_library_is_loaded():
    import weasyprint  # noqa: F401  (its import re-maps ElementTree's default namespace prefix)

    svg = headache_days_chart([(date(2026, 1, 5), 18), (date(2026, 2, 5), 12)], 20, nonce="n0nce")
    assert svg.startswith("<svg ")
    assert "ns0:" not in svg
    assert '<style type="text/css" nonce="n0nce">' in svg
    assert "<script" not in svg
    assert ' style="' not in svg
    assert 'role="img"' in svg


def test_charts_say_so_when_there_is_nothing_to_plot():
    assert headache_days_chart([], 20) is None
    assert pain_chart([(date(2026, 1, 5), None, None)]) is None
    assert bp_chart([]) is None
