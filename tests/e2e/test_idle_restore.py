"""In a real browser: after a sign-out, the page never fills in a dose, an amount or a rate.

Two drugs run in one session. The nurse types into one drug's stop form; the sign-out
comes; whoever logs in next on that tab finds no dose or amount field holding a value
they did not type on that page: the same nurse gets back only the non-clinical entries
of that same form, another person gets nothing, and a POST cut off by the sign-out comes
back to the page it was sent from, not to a 405.
"""

import json
import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from records.actions.medications import administration_start
from records.permissions import Role
from tests.conftest import PASSWORD, actor_for, verified_device
from tests.e2e.conftest import current_code, log_in

KEPT = "clinic-unsaved"


@pytest.fixture
def two_drugs(nurse, sessions, patient):
    """A session in progress with two orders, both administrations started."""
    session = sessions.to(patient, "in_progress")
    first = sessions.administration
    second_order = sessions.order(
        session, medication="Ondansetron", dose_value="4", dose_unit="mg", rate_text="over 5 minutes"
    )
    second = administration_start(actor=actor_for(nurse), order=second_order, site="R forearm 20G", lot_number="LOT-2")
    return session, first, second


def log_in_on_this_page(page, user):
    """Log in on the log-in page the browser is on (its `next` kept), with the code step."""
    device = verified_device(user)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    page.get_by_label("Authenticator code").fill(current_code(device))
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()


def clinical_values(page) -> dict[str, str]:
    """Every dose, amount, rate or vital-sign field on the page that holds a value."""
    return page.evaluate(
        """() => {
          const found = {};
          document.querySelectorAll("input, select, textarea").forEach((field) => {
            const clinical = field.hasAttribute("data-no-keep") || /dose|amount|rate/i.test(field.name);
            if (clinical && field.type !== "hidden" && field.value !== "") {
              found[field.id || field.name] = field.value;
            }
          });
          return found;
        }"""
    )


def type_into_first_drugs_stop_form(page, first, second):
    page.locator(f"#amount-{first.pk}").fill("35")
    page.locator(f"#amount-unit-{first.pk}").select_option("mg")
    page.locator(f"#early-{first.pk}").fill("Patient asked to stop")
    # Should a field lose its mark, its name alone keeps it out.
    page.locator(f"#amount-{first.pk}").evaluate("(field) => field.removeAttribute('data-no-keep')")
    page.get_by_label("Systolic", exact=True).fill("150")
    assert clinical_values(page) == {
        f"amount-{first.pk}": "35",
        f"amount-unit-{first.pk}": "mg",
        "id_systolic": "150",
    }
    assert page.locator(f"#early-{second.pk}").input_value() == ""


def signed_out_when_idle(page, session, clocks, settings):
    """The idle time-out passes on the server; the page's next poll (the monitor readings, every 2 s)
    is the first request after it, and is answered with the way to the log-in, which names the
    session page (encoded or not), never the polled fragment. (The page's own timer, which signs out
    by itself, is in test_sign_in_security.py.)"""
    clocks.server.shift(settings.IDLE_TIMEOUT_SECONDS + 1)
    clocks.page.clock.fast_forward(2000)
    slash = "(?:/|%2F)"
    expect(page).to_have_url(re.compile(rf"/login/\?next={slash}sessions{slash}{session.pk}{slash}$"))
    expect(page.get_by_text("You were signed out after")).to_be_visible()
    expect(page.get_by_text("Entries you had not saved are kept in this browser tab")).to_be_visible()


def test_the_same_nurse_gets_back_only_what_she_typed_in_that_form_and_no_clinical_value(
    live_server, page, nurse, two_drugs, still_clocks, settings, shot
):
    session, first, second = two_drugs
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "nurse_a", PASSWORD)
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    type_into_first_drugs_stop_form(page, first, second)

    signed_out_when_idle(page, session, still_clocks, settings)
    kept = json.loads(page.evaluate(f"() => sessionStorage.getItem('{KEPT}')"))
    assert kept["user"] == str(nurse.pk)
    assert [entry["fields"] for entry in kept["forms"]] == [{"early_reason": "Patient asked to stop"}]
    assert f"administration={first.pk}" in kept["forms"][0]["key"]

    log_in_on_this_page(page, nurse)
    expect(page).to_have_url(re.compile(rf"/sessions/{session.pk}/$"))
    restored = page.locator("[data-unsaved-restored]")
    expect(restored).to_be_visible()
    expect(restored).to_contain_text("If stopped early: why")
    expect(restored).not_to_contain_text("Amount")
    shot(page, "idle-restore-two-drugs")

    # Back in the very form it was typed in, and nowhere else.
    expect(page.locator(f"#early-{first.pk}")).to_have_value("Patient asked to stop")
    expect(page.locator(f"#early-{second.pk}")).to_have_value("")
    expect(page.locator(f"#pause-reason-{first.pk}")).to_have_value("")
    expect(page.locator(f"#pause-reason-{second.pk}")).to_have_value("")
    # No dose, amount, rate or vital sign holds a value: not the one typed, not in the other drug's form.
    assert clinical_values(page) == {}
    assert page.evaluate(f"() => sessionStorage.getItem('{KEPT}')") is None

    # Once only.
    page.reload()
    expect(page.locator("[data-unsaved-restored]")).to_be_hidden()
    expect(page.locator(f"#early-{first.pk}")).to_have_value("")


def test_someone_else_logging_in_on_the_tab_gets_nothing(
    live_server, page, nurse, make_user, two_drugs, still_clocks, settings
):
    session, first, second = two_drugs
    other = make_user(Role.NURSE, "nurse_b", first_name="Theo", last_name="Marsh")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "nurse_a", PASSWORD)
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    type_into_first_drugs_stop_form(page, first, second)

    signed_out_when_idle(page, session, still_clocks, settings)
    log_in_on_this_page(page, other)
    expect(page).to_have_url(re.compile(rf"/sessions/{session.pk}/$"))
    expect(page.get_by_text("Theo Marsh")).to_be_visible()
    expect(page.locator("[data-unsaved-restored]")).to_be_hidden()
    for administration in (first, second):
        expect(page.locator(f"#early-{administration.pk}")).to_have_value("")
    assert clinical_values(page) == {}
    # Removed, not kept for a later page.
    assert page.evaluate(f"() => sessionStorage.getItem('{KEPT}')") is None


def test_a_post_cut_off_by_the_sign_out_comes_back_to_the_page_not_a_405(
    live_server, page, nurse, two_drugs, settings, shot, still_clocks
):
    session, first, second = two_drugs
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "nurse_a", PASSWORD)
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    page.locator(f"#amount-{second.pk}").fill("4")
    page.locator(f"#pause-reason-{first.pk}").fill("Nausea, pausing")

    # The server's session ends while the page still thinks it has time (another tab, a lost request).
    # Only the server's clock moves: none of the page's timers (the monitor readings' poll every 2 s,
    # the idle warning) sends a request, so the POST is the first request the server sees after the
    # sign-out (a poll arriving first would sign the page out itself, racing the POST).
    still_clocks.server.shift(settings.IDLE_TIMEOUT_SECONDS + 1)
    with page.expect_navigation():
        page.locator(f"#pause-reason-{first.pk}").press("Enter")
    expect(page).to_have_url(re.compile(rf"/login/\?next=(/|%2F)sessions(/|%2F){session.pk}(/|%2F)$"))
    first.refresh_from_db()
    assert first.state == "running"

    log_in_on_this_page(page, nurse)
    expect(page).to_have_url(re.compile(rf"/sessions/{session.pk}/$"))
    expect(page.get_by_role("heading", name=re.compile("Administration"))).to_be_visible()
    assert "405" not in page.title()
    expect(page.locator(f"#pause-reason-{first.pk}")).to_have_value("Nausea, pausing")
    expect(page.locator(f"#pause-reason-{second.pk}")).to_have_value("")
    assert clinical_values(page) == {}
    shot(page, "idle-post-cut-off-back-on-the-page")

    # The nurse saves it now, and it is recorded once.
    page.locator(f"#pause-reason-{first.pk}").press("Enter")
    expect(page.get_by_text("Administration paused.")).to_be_visible()
    first.refresh_from_db()
    assert first.state == "paused"
