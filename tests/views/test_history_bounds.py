"""The history page does the same work whatever the length of the course.

The trends, their value tables and the outcomes list show one period of TREND_SESSIONS
sessions (the latest first); the timeline shows SESSIONS_PER_PAGE sessions a page. The
tests shrink both to two sessions so that a course a few sessions long already spans
several periods: the bound is the same whatever its size, and a course of 150 sessions
charted through the actions would take minutes.
"""

import re
from datetime import date, timedelta
from functools import partial
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from records.actions.outcomes import outcome_record
from records.models import AuditEvent
from records.views import review
from tests.conftest import actor_for
from tests.factories import PastSessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.long_running]

# Sessions, days before today: with two a period, the periods are (10, 2), (30, 20) and (40,).
SESSION_DAYS = (40, 30, 20, 10, 2)
# Reports before the first session, between sessions, on session days and today.
REPORT_DAYS = (50, 40, 35, 30, 20, 15, 10, 2, 0)


@pytest.fixture
def two_a_period(monkeypatch):
    monkeypatch.setattr(review, "TREND_SESSIONS", 2)
    monkeypatch.setattr(review, "SESSIONS_PER_PAGE", 2)


def _days_ago(days: int) -> date:
    return timezone.localdate() - timedelta(days=days)


def _chart(nurse, physician, patient, days: tuple[int, ...]) -> None:
    """A session on each of `days` (days before today) with its own pain and BP, and a report on the same day."""
    charted = partial(PastSessionFactory, nurse=nurse, physician=physician, patient=patient, readings=2)
    for n in days:
        start = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=n)
        charted(start=start, pain_before=n % 11, pain_after=n % 3, systolic=100 + n % 50, diastolic=60 + n % 20)


def _report(nurse, patient, days: tuple[int, ...]) -> None:
    for n in days:
        outcome_record(actor=actor_for(nurse), patient=patient, reported_on=_days_ago(n), headache_days=n % 31)


@pytest.fixture
def course(two_a_period, nurse, physician, patient):
    _chart(nurse, physician, patient, SESSION_DAYS)
    _report(nurse, patient, REPORT_DAYS)


# Reading the page ----------------------------------------------------------------------------------


def _table_rows(page: str, caption: str) -> list[tuple[str, ...]]:
    """The cells of each row of the table whose caption starts with `caption`."""
    table = re.search(rf"<caption[^>]*>{re.escape(caption)}.*?</caption>(.*?)</table>", page, re.S)
    assert table, caption
    body = table.group(1).split("<tbody>", 1)[1]
    return [
        tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S))
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _pain_rows(page: str) -> list[tuple[str, ...]]:
    return _table_rows(page, "Pain before and after, per session")


def _bp_rows(page: str) -> list[tuple[str, ...]]:
    return _table_rows(page, "Screening blood pressure per session")


def _report_days(page: str) -> list[str]:
    """The days of the reports in the outcomes list, in its order."""
    rows = _table_rows(page, "Patient-reported outcomes")
    return [row[0][:10] for row in rows]


def _chart_svg(page: str, label: str) -> str:
    found = re.search(rf'<svg[^>]*aria-label="{re.escape(label)}".*?</svg>', page, re.S)
    assert found, label
    return found.group(0)


def _dots(svg: str) -> int:
    """The points a chart plots: each is drawn as a dot."""
    return svg.count('<circle class="dot"')


def _description(svg: str) -> str:
    return re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1)


def _earlier_link(page: str) -> str | None:
    found = re.search(r'<a class="page-link" href="([^"]*)">Earlier sessions</a>', page)
    return unescape(found.group(1)) if found else None


def _get(client, patient, query: str = "") -> str:
    response = client.get(reverse("patient_history", args=[patient.pk]) + query)
    assert response.status_code == 200
    return response.content.decode()


# The tests -----------------------------------------------------------------------------------------


def test_the_charts_and_their_tables_show_the_same_period_of_sessions(client_for, physician, patient, course):
    page = _get(client_for(physician), patient)

    latest = [_days_ago(n).isoformat() for n in (10, 2)]
    assert _pain_rows(page) == [(latest[0], "10", "1"), (latest[1], "2", "2")]
    assert _bp_rows(page) == [(latest[0], "110/70"), (latest[1], "102/62")]
    pain, bp = (
        _chart_svg(page, "Pain before and after each session"),
        _chart_svg(page, "Pre-session blood pressure per session"),
    )
    assert _dots(pain) == 4 and _description(pain).startswith("2 sessions;")  # before and after, two sessions
    assert _dots(bp) == 4 and _description(bp).startswith("2 sessions;")  # systolic and diastolic
    # The outcomes list is the headache chart's table: the reports since the period's first session.
    assert _report_days(page) == [_days_ago(n).isoformat() for n in (10, 2, 0)]
    headache = _chart_svg(page, "Headache days per 30 days against the baseline at intake")
    assert _dots(headache) == 3
    assert _description(headache).startswith(f"3 reports from {_days_ago(10)} to {_days_ago(0)};")
    # The period is stated, and the whole course's span beside it.
    assert "Sessions <strong>1 to 2 of 5</strong>, the latest:" in page
    assert f"the outcomes reported since {_days_ago(10)}." in page
    assert f"The course runs from {_days_ago(40)} to {_days_ago(2)}." in page


def test_every_session_and_report_is_reached_once_through_the_earlier_periods(client_for, physician, patient, course):
    client = client_for(physician)
    query, pain_days, report_days, periods = "", [], [], []
    while query is not None:
        page = _get(client, patient, query)
        pain, bp = _pain_rows(page), _bp_rows(page)
        assert [row[0] for row in pain] == [row[0] for row in bp]
        assert _dots(_chart_svg(page, "Pain before and after each session")) == 2 * len(pain)
        assert _dots(_chart_svg(page, "Pre-session blood pressure per session")) == 2 * len(bp)
        reports = _report_days(page)
        if reports:
            headache = _chart_svg(page, "Headache days per 30 days against the baseline at intake")
            assert _dots(headache) == len(reports)
        pain_days += [row[0] for row in pain]
        report_days += reports
        periods.append(re.search(r"Period (\d) of (\d)", page).groups())
        query = _earlier_link(page)
        assert len(periods) <= 3, "the earliest period has no link further back"

    assert periods == [("1", "3"), ("2", "3"), ("3", "3")]
    assert sorted(pain_days) == sorted(_days_ago(n).isoformat() for n in SESSION_DAYS)
    # Each report in exactly one period, those before the course and after its last session included.
    assert sorted(report_days) == sorted(_days_ago(n).isoformat() for n in REPORT_DAYS)
    # Every view of the page is one audited view.
    assert AuditEvent.objects.filter(action="view", patient=patient, reason="patient history").count() == 3


def test_an_earlier_period_says_which_sessions_and_reports_it_shows(client_for, physician, patient, course):
    page = _get(client_for(physician), patient, "?trends=2")

    assert "Sessions <strong>3 to 4 of 5</strong>:" in page
    assert f"the outcomes reported from {_days_ago(30)} to {_days_ago(11)}." in page
    assert [row[0] for row in _pain_rows(page)] == [_days_ago(n).isoformat() for n in (30, 20)]
    assert _report_days(page) == [_days_ago(n).isoformat() for n in (30, 20, 15)]
    assert f"Reported from {_days_ago(30)} to {_days_ago(11)}: the period the trends show" in page
    # The earliest period reaches back to the first report, before the first session.
    earliest = _get(client_for(physician), patient, "?trends=3")
    assert _report_days(earliest) == [_days_ago(n).isoformat() for n in (50, 40, 35)]
    assert f"the outcomes reported up to {_days_ago(31)}." in earliest


def test_periods_are_chosen_by_their_days_and_keep_the_timeline_where_it_was(client_for, physician, patient, course):
    client = client_for(physician)
    page = _get(client, patient, "?route=iv_infusion&page=2&trends=2")

    # The chooser names each period by its days and keeps the filters and the timeline's page.
    assert f'<option value="1">{_days_ago(10)} to {_days_ago(2)} (sessions 1 to 2)</option>' in page
    assert f'<option value="2" selected>{_days_ago(30)} to {_days_ago(20)} (sessions 3 to 4)</option>' in page
    assert f'<option value="3">{_days_ago(40)} (session 5)</option>' in page
    assert '<input type="hidden" name="route" value="iv_infusion"><input type="hidden" name="page" value="2">' in page
    assert 'href="?route=iv_infusion&amp;page=2&amp;trends=3#trends">Earlier sessions' in page
    assert 'href="?route=iv_infusion&amp;page=2&amp;trends=1#trends">Later sessions' in page
    # The timeline's pages and filters keep the period.
    assert "?route=iv_infusion&amp;trends=2&amp;page=1" in page
    assert '<input type="hidden" name="trends" value="2">' in page
    # A number that is no period's gives the nearest one, as a page number does.
    assert "Period 3 of 3" in _get(client, patient, "?trends=99")
    assert "Period 1 of 3" in _get(client, patient, "?trends=latest")


def test_the_page_does_the_same_work_for_a_short_and_a_long_course(two_a_period, client_for, nurse, physician, patient):
    """Three sessions, then eight: the same queries, chart points, table rows and timeline entries."""
    client = client_for(physician)

    def measure() -> tuple[int, tuple[int, ...]]:
        with CaptureQueriesContext(connection) as queries:
            page = _get(client, patient)
        shown = (
            len(_pain_rows(page)),
            len(_bp_rows(page)),
            len(_report_days(page)),
            _dots(_chart_svg(page, "Pain before and after each session")),
            _dots(_chart_svg(page, "Pre-session blood pressure per session")),
            _dots(_chart_svg(page, "Headache days per 30 days against the baseline at intake")),
            page.count('class="card shadow-sm mb-3 timeline-session"'),
        )
        return len(queries), shown

    _chart(nurse, physician, patient, (90, 60, 8))
    _report(nurse, patient, (90, 60, 8))
    short = measure()
    _chart(nurse, physician, patient, (80, 70, 50, 40, 4))
    _report(nurse, patient, (80, 70, 50, 40, 4))
    long = measure()

    assert short[1] == (2, 2, 2, 4, 4, 2, 2)
    assert long == short, (long, short)
