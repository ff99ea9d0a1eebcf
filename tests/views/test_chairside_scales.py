"""MOAA/S and CADSS-6 at the chair: entry (form and action), the chart panel, and the lowest / highest
of a session on its page, the patient's history and the print."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from records.actions.side_effects import discharge_override
from records.actions.vitals import vitals_record
from records.forms.sessions import VitalsForm
from records.models import AuditEvent, VitalsReading
from records.rendering.charts import scales_chart, vitals_chart
from records.rendering.trends import bp_chart, headache_days_chart, pain_chart
from tests.charting import RECOVERED
from tests.conftest import actor_for
from tests.pdfs import pdf_text

pytestmark = pytest.mark.django_db

ITEMS = ("cadss_1", "cadss_2", "cadss_6", "cadss_7", "cadss_15", "cadss_22")


def local(delta_minutes: int = 0) -> str:
    return timezone.localtime(timezone.now() + timedelta(minutes=delta_minutes)).strftime("%Y-%m-%dT%H:%M")


def cadss(*values) -> dict:
    return dict(zip(ITEMS, values, strict=True))


def post_data(**values) -> dict:
    return {"measured_at": local(), "phase": "post", **{k: str(v) for k, v in values.items()}}


# The form ---------------------------------------------------------------------------------------


def test_moaas_offers_each_level_with_its_anchor_and_nothing_chosen():
    field = VitalsForm().fields["moaas"]
    assert [str(label) for _, label in field.choices] == [
        "—",
        "5 — Responds readily to name spoken in normal tone",
        "4 — Lethargic response to name spoken in normal tone",
        "3 — Responds only after name is called loudly or repeatedly",
        "2 — Responds only after mild prodding or shaking",
        "1 — Responds only after a painful trapezius squeeze",
        "0 — No response after a painful trapezius squeeze",
    ]
    assert VitalsForm().initial.get("moaas") is None
    assert [VitalsForm().fields[f].label for f in ITEMS] == [
        "Slow motion",
        "Unreal, dreamlike",
        "Disconnected from body",
        "Body feels changed",
        "Spacing out",
        "Gaps in memory",
    ]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"moaas": "6"}, "moaas", "Sedation (MOAA/S) must be between 0 and 5."),
        ({"moaas": "-1"}, "moaas", "Sedation (MOAA/S) must be between 0 and 5."),
        ({**cadss(5, 0, 0, 0, 0, 0)}, "cadss_1", "CADSS item 1 must be between 0 and 4."),
        (
            {**cadss(0, 0, 0, 0, 0, "x")},
            "cadss_22",
            "CADSS item 22 must be between 0 and 4.",
        ),
        ({"cadss_6": "2"}, "cadss_1", "Score all six CADSS-6 items (0 to 4), or none."),
    ],
)
def test_the_form_refuses_values_off_the_scale_naming_the_field_and_range(values, field, message):
    form = VitalsForm(post_data(**values))
    assert not form.is_valid()
    assert form.errors[field] == [message]


# The action -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"moaas": 6}, "moaas", "Sedation (MOAA/S) must be between 0 and 5."),
        ({"moaas": 2.5}, "moaas", "Sedation (MOAA/S) must be between 0 and 5."),
        (
            cadss(0, 0, -1, 0, 0, 0),
            "cadss_6",
            "CADSS item 6 must be between 0 and 4.",
        ),
        ({"cadss_1": 1, "cadss_2": 1}, "cadss_22", "Score all six CADSS-6 items (0 to 4), or none."),
    ],
)
def test_the_action_refuses_values_off_the_scale(sessions, patient, nurse, values, field, message):
    session = sessions.to(patient, "in_progress")
    before = session.readings.count()
    with pytest.raises(ValidationError) as exc:
        vitals_record(actor=actor_for(nurse), session=session, measured_at=timezone.now(), phase="during", **values)
    assert exc.value.message_dict[field] == [message]
    assert session.readings.count() == before


def test_the_scales_alone_are_a_reading_stored_and_audited_as_entered(sessions, patient, nurse):
    session = sessions.to(patient, "in_progress")
    reading = vitals_record(
        actor=actor_for(nurse),
        session=session,
        measured_at=timezone.now(),
        phase="during",
        moaas=3,
        **cadss(1, 2, 0, 3, 4, 1),
    )
    reading.refresh_from_db()
    assert (reading.moaas, reading.cadss6_total) == (3, 11)
    changes = AuditEvent.objects.get(action="create", record_type="vitalsreading", record_id=str(reading.pk)).changes
    assert changes["moaas"] == [None, 3] and changes["cadss_15"] == [None, 4]


# The page: entry by the form, the table, the summary, the chart panel ---------------------------


def test_nurse_charts_the_scales_and_sees_the_total_the_lowest_and_the_highest(client, sessions, patient, nurse):
    session = sessions.to(patient, "in_progress")
    client.force_login(nurse)
    url = reverse("session_vitals_record", args=[session.pk])
    assert client.post(url, post_data(moaas=2, **cadss(2, 3, 1, 0, 4, 2))).status_code == 302
    assert client.post(url, post_data(moaas=4, **cadss(0, 1, 0, 0, 1, 0))).status_code == 302

    html = client.get(reverse("session_detail", args=[session.pk])).content.decode()

    assert re.search(r"Lowest MOAA/S</dt><dd[^>]*>2</dd>", html)
    assert re.search(r"Highest CADSS-6</dt><dd[^>]*>12</dd>", html)
    assert '<span class="">12</span>' in html and '<span class="">2</span>' in html
    assert "Sedation and dissociation over time" in html
    assert "2 MOAA/S scores (lowest 2); 2 CADSS-6 totals (highest 12)." in html


def test_a_refused_scale_comes_back_with_its_message_and_saves_nothing(client, sessions, patient, nurse):
    session = sessions.to(patient, "in_progress")
    before = session.readings.count()
    client.force_login(nurse)
    response = client.post(reverse("session_vitals_record", args=[session.pk]), post_data(moaas=9))
    assert response.status_code == 400
    assert "Sedation (MOAA/S) must be between 0 and 5." in response.content.decode()
    assert session.readings.count() == before


def test_nothing_is_carried_forward_from_an_earlier_session(client, sessions, patient, nurse):
    earlier = sessions.to(patient, "recovery")
    vitals_record(
        actor=actor_for(nurse),
        session=earlier,
        measured_at=timezone.now(),
        phase="post",
        moaas=3,
        **cadss(4, 4, 4, 4, 4, 4),
    )
    today = sessions.to(patient, "in_progress")
    client.force_login(nurse)
    html = client.get(reverse("session_detail", args=[today.pk])).content.decode()
    entry = html[html.index('class="scales-entry') : html.index("Save reading")]
    assert " selected" not in entry.split('name="moaas"')[1].split("</select>")[0].replace('value="" selected', "")
    assert all(f'name="{item}"' in entry for item in ITEMS)
    assert not re.search(r'name="cadss_\d+"[^>]*value="\d"', entry)
    assert "Lowest MOAA/S" not in html


def chart_readings(start, rows) -> list[SimpleNamespace]:
    """Readings as the charts take them: (minutes after `start`, MOAA/S, CADSS-6 total), the same vitals each."""
    return [
        SimpleNamespace(
            measured_at=start + timedelta(minutes=m),
            systolic=120,
            diastolic=80,
            heart_rate=70,
            spo2=98,
            respiratory_rate=14,
            moaas=moaas,
            cadss6_total=total,
        )
        for m, moaas, total in rows
    ]


def test_the_scales_panel_shares_the_vitals_chart_time_axis():
    readings = chart_readings(timezone.now(), ((0, 5, 0), (20, 2, 14), (45, None, None), (70, 5, 0)))
    ticks = re.compile(r'<text x="([\d.]+)" y="[\d.]+"[^>]*>(\d\d:\d\d)</text>')
    vitals, scales = str(vitals_chart(readings, [])), str(scales_chart(readings, []))
    assert ticks.findall(vitals) == ticks.findall(scales) and ticks.findall(vitals)
    assert "3 MOAA/S scores (lowest 2); 3 CADSS-6 totals (highest 14)." in scales
    assert 'role="img"' in scales and "<script" not in scales


def test_charts_shown_or_printed_together_share_no_element_id():
    """The vitals and scales panels share a page and a print, the history's three trends another: an id used twice
    makes the page invalid HTML and the print warn ("Anchor defined twice")."""
    start = timezone.now()
    readings = chart_readings(start, ((0, 5, 0), (20, 5, 0), (45, 5, 0)))
    days = [start.date() - timedelta(days=30 * n) for n in range(3)]
    pages = {
        "session page and print": [vitals_chart(readings, []), scales_chart(readings, [])],
        "history": [
            headache_days_chart([(d, 4) for d in days], 10),
            pain_chart([(d, 6, 2) for d in days]),
            bp_chart([(d, 130, 80) for d in days]),
        ],
    }
    for page, charts in pages.items():
        ids = [found for chart in charts for found in re.findall(r'\sid="([^"]+)"', str(chart))]
        assert ids, page
        assert len(ids) == len(set(ids)), f"{page}: ids used twice {sorted({i for i in ids if ids.count(i) > 1})}"


def test_the_scales_panel_stays_bounded():
    now = timezone.now()
    readings = [
        SimpleNamespace(measured_at=now - timedelta(seconds=9 * i), moaas=i % 6, cadss6_total=i % 25)
        for i in range(5000)
    ]
    assert len(scales_chart(readings, [])) < 400_000


# The history page and the print -------------------------------------------------------------------


def test_history_and_print_show_the_lowest_moaas_and_highest_cadss6(client, sessions, patient, nurse, physician):
    session = sessions.to(patient, "recovery")
    for moaas, items in ((3, cadss(2, 2, 2, 2, 1, 0)), (1, cadss(0, 0, 0, 0, 1, 0))):
        vitals_record(
            actor=actor_for(nurse), session=session, measured_at=timezone.now(), phase="post", moaas=moaas, **items
        )
    struck = vitals_record(
        actor=actor_for(nurse),
        session=session,
        measured_at=timezone.now(),
        phase="post",
        moaas=0,
        **cadss(4, 4, 4, 4, 4, 4),
    )
    from records.actions.vitals import vitals_mark_entered_in_error

    vitals_mark_entered_in_error(actor=actor_for(nurse), reading=struck, reason="Wrong patient")
    discharge_override(actor=actor_for(physician), session=session, reason="Known baseline, escort with her")
    client.force_login(physician)

    history = client.get(reverse("patient_history", args=[patient.pk])).content.decode()
    assert re.search(r'class="col-md-9 timeline-scales">Lowest MOAA/S 1 · Highest CADSS-6 9</dd>', history)
    assert "Criteria overridden</strong> by" in history and "Known baseline, escort with her" in history

    text = pdf_text(client.get(reverse("session_pdf", args=[session.pk])).content)
    assert "Lowest sedation (MOAA/S) 1" in text
    assert "Highest dissociation (CADSS-6 total) 9" in text
    assert "Discharge criteria overridden by" in text and "Known baseline, escort with her" in text
    assert VitalsReading.objects.filter(session=session, moaas=0).exists()  # struck, kept, left out of the summary
    session_html = client.get(reverse("session_detail", args=[session.pk])).content.decode()
    assert "Discharge criteria overridden</strong> by" in session_html


def test_history_runs_a_constant_number_of_queries_with_the_scales(
    client, sessions, patient, nurse, physician, django_assert_max_num_queries
):
    client.force_login(physician)
    url = reverse("patient_history", args=[patient.pk])

    def count() -> int:
        with django_assert_max_num_queries(60) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    sessions.to(patient, "discharged")
    one = count()
    for _ in range(3):
        s = sessions.to(patient, "recovery")
        vitals_record(actor=actor_for(nurse), session=s, measured_at=timezone.now(), phase="post", **RECOVERED)
    assert count() == one
