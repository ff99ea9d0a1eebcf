"""Charts bound their size whatever the data holds.

A single reading dated decades back once gave the session chart one x-axis tick per two
hours since then: an 18 MB page and a PDF that ran out of memory. The rows below are
put in with the ORM, as old or imported data would be, not through the actions (which
refuse such times now: records.clinical_time).
"""

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from records.models import OutcomeReport, VitalsReading
from records.rendering.charts import MAX_READINGS, vitals_chart
from records.rendering.trends import MAX_POINTS, bp_chart, headache_days_chart, pain_chart

ZONE = ZoneInfo(settings.TIME_ZONE)
DECADES_AGO = datetime(1990, 3, 1, 9, 0, tzinfo=ZONE)
# A chart of a whole visit charted every few minutes is about 25 kB; a full one about 250 kB.
CHART_BOUND = 400_000
PAGE_BOUND = 600_000


def reading(at: datetime) -> SimpleNamespace:
    return SimpleNamespace(measured_at=at, systolic=124, diastolic=80, heart_rate=72, spo2=98, respiratory_rate=14)


def test_a_reading_decades_back_does_not_stretch_the_session_chart():
    now = timezone.now()
    svg = vitals_chart([reading(DECADES_AGO), reading(now - timedelta(minutes=5)), reading(now)], [])
    assert len(svg) < 50_000
    assert "1 earlier readings or marks are in the table only." in svg


def test_thousands_of_readings_are_plotted_as_the_latest_few_hundred():
    now = timezone.now()
    svg = vitals_chart([reading(now - timedelta(seconds=9 * i)) for i in range(5000)], [])
    assert len(svg) < CHART_BOUND
    assert f"{MAX_READINGS} readings from" in svg
    assert f"{5000 - MAX_READINGS} earlier readings or marks are in the table only." in svg


@pytest.mark.parametrize(
    ("chart", "point"),
    [
        (lambda points: headache_days_chart(points, 12), lambda day: (day, 10)),
        (pain_chart, lambda day: (day, 6, 2)),
        (bp_chart, lambda day: (day, 128, 82)),
    ],
)
def test_trend_charts_plot_a_bounded_number_of_points_over_a_bounded_span(chart, point):
    days = [date(1, 1, 1), date(1901, 6, 1), *(date(2026, 11, 25) - timedelta(days=i) for i in range(5000))]
    svg = chart([point(day) for day in days])
    assert len(svg) < CHART_BOUND
    assert f"{5002 - MAX_POINTS} earlier values are in the table only." in svg
    assert "0001-01-01" not in svg


@pytest.mark.django_db
def test_the_session_page_and_print_stay_small_with_a_reading_decades_back(client, nurse, sessions, patient):
    session = sessions.to(patient, "in_progress")
    old = VitalsReading.objects.create(
        session=session,
        measured_at=DECADES_AGO,
        entered_at=timezone.now(),
        entered_by=nurse,
        phase="during",
        heart_rate=80,
    )
    client.force_login(nurse)

    page = client.get(reverse("session_detail", args=[session.pk]))
    assert page.status_code == 200
    assert len(page.content) < PAGE_BOUND
    assert "earlier readings or marks are in the table only." in page.content.decode()
    assert f'id="reading-{old.pk}"' in page.content.decode()  # the table still lists it

    pdf = client.get(reverse("session_pdf", args=[session.pk]))
    assert pdf.status_code == 200
    assert len(pdf.content) < PAGE_BOUND


@pytest.mark.django_db
def test_the_history_page_stays_small_with_outcomes_decades_apart(client, physician, patient):
    for day in (date(1900, 1, 1), *(date(2026, 11, 24) - timedelta(days=i) for i in range(400))):
        OutcomeReport.objects.create(
            patient=patient, reported_on=day, headache_days=8, recorded_by=physician, recorded_at=timezone.now()
        )
    client.force_login(physician)
    page = client.get(reverse("patient_history", args=[patient.pk]))
    assert page.status_code == 200
    assert f"{401 - MAX_POINTS} earlier values are in the table only." in page.content.decode()
    # Every report is still listed in the table; the chart is what stays bounded.
    assert len(page.content) < PAGE_BOUND + 400 * 1000
