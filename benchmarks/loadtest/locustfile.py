"""Nurses charting vitals at the chair and physicians reviewing, against a running server (README "Load test").

Run by benchmarks/loadtest/run.py, which makes the accounts (each with its authenticator app), the
nurses' sessions in progress and the accounts file, starts gunicorn over TLS on loopback, and checks
the database afterwards. Each simulated person does what the pages make a browser do: signs in with
the password and then the code the authenticator app would show, opens pages, and charts through
the session page's own htmx form, with its CSRF token and htmx headers.

Every reading the server answers as saved is written, as it is answered, to the readings file
(one JSON line: session, note), so that the runner can find each one in the database afterwards.
Each reading carries a note unique to the run for that purpose.
"""

import json
import random
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from django_otp.oath import totp
from locust import HttpUser, between, events, task
from locust.exception import StopUser

# Filled from the accounts file when locust starts; each simulated person takes one account.
NURSE_ACCOUNTS: list[dict[str, Any]] = []
PHYSICIAN_ACCOUNTS: list[dict[str, Any]] = []
REVIEW: dict[str, list[int]] = {"patients": [], "sessions": []}
OPTIONS: dict[str, str] = {}
RUN: dict[str, Any] = {}

# Each round a nurse opens the board and her session, charts this many readings, and the board refreshes.
READINGS_PER_ROUND = 3


@events.init_command_line_parser.add_listener
def add_options(parser) -> None:
    parser.add_argument("--accounts-file", default="", help="JSON written by run.py: accounts, sessions, TOTP keys")
    parser.add_argument("--readings-file", default="", help="where each reading answered as saved is appended")
    parser.add_argument("--ca-file", default="", help="the server's self-signed certificate, to verify TLS against")
    parser.add_argument("--summary-file", default="", help="where the final figures are written, as JSON")
    parser.add_argument("--pace", type=float, default=10, help="mean seconds between one person's requests")


@events.init.add_listener
def load_accounts(environment, **kwargs) -> None:
    options = environment.parsed_options
    if options is None or not options.accounts_file:
        return
    accounts = json.loads(Path(options.accounts_file).read_text())
    NURSE_ACCOUNTS.extend(accounts["nurses"])
    PHYSICIAN_ACCOUNTS.extend(accounts["physicians"])
    REVIEW["patients"] = accounts["review_patients"]
    REVIEW["sessions"] = accounts["review_sessions"]
    OPTIONS.update(readings_file=options.readings_file, ca_file=options.ca_file, summary_file=options.summary_file)
    RUN["environment"] = environment
    # Exactly one simulated person per account (50 nurses, 5 physicians by default), not a share by weight.
    NurseUser.fixed_count = len(NURSE_ACCOUNTS)
    PhysicianUser.fixed_count = len(PHYSICIAN_ACCOUNTS)
    NurseUser.wait_time = PhysicianUser.wait_time = between(options.pace / 2, options.pace * 3 / 2)


@events.quit.add_listener
def write_summary(exit_code: int, **kwargs) -> None:
    """The figures once every user has stopped (locust's CSV may be written a moment before the last answers)."""
    environment = RUN.get("environment")
    if environment is None or not OPTIONS.get("summary_file"):
        return
    stats = environment.stats

    def figures(entry) -> dict[str, Any]:
        return {
            "name": entry.name or "all requests",
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "median_ms": entry.median_response_time,
            "p95_ms": entry.get_response_time_percentile(0.95),
            "max_ms": entry.max_response_time,
            "per_second": entry.total_rps,
        }

    summary = {
        "requests": [figures(entry) for entry in stats.entries.values()],
        "total": figures(stats.total),
        "failures": [
            f"{error.occurrences} x {error.method} {error.name}: {error.error}" for error in stats.errors.values()
        ],
        # Exceptions raised in this file's own code while a person worked (a bug here, not the server's).
        "exceptions": [f"{row['count']} x {row['msg']}" for row in environment.runner.exceptions.values()],
        "exit_code": exit_code,
    }
    Path(OPTIONS["summary_file"]).write_text(json.dumps(summary, indent=1))


# Reading pages -----------------------------------------------------------------------------------


class PageForms(HTMLParser):
    """The forms of a page (or an htmx fragment) with the fields a browser would send, and the
    headers htmx adds to every request from the page (the body's hx-headers: the CSRF token)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[dict[str, str], dict[str, str]]] = []
        self.hx_headers: dict[str, str] = {}
        # Elements that fetch themselves again when the server names an event ("EVENT from:body"):
        # event -> (the element's id, the URL it gets).
        self.listeners: dict[str, list[tuple[str, str]]] = {}
        self._fields: dict[str, str] | None = None
        self._select: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        name = values.get("name", "")
        if tag == "body" and values.get("hx-headers"):
            self.hx_headers = json.loads(values["hx-headers"])
        if values.get("hx-get") and "from:body" in values.get("hx-trigger", ""):
            for trigger in values["hx-trigger"].split(","):
                if "from:body" in trigger:
                    self.listeners.setdefault(trigger.split()[0], []).append((values.get("id", ""), values["hx-get"]))
        if tag == "form":
            self._fields = {}
            self.forms.append((values, self._fields))
        elif self._fields is None:
            return
        elif tag == "input" and name:
            kind = values.get("type", "text")
            if kind in ("submit", "button", "reset", "image", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in values:
                return
            self._fields[name] = values.get("value", "on" if kind == "checkbox" else "")
        elif tag == "select" and name:
            self._select = name
        # A select sends its selected option, or the first one when none is.
        elif (
            tag == "option" and self._select is not None and (self._select not in self._fields or "selected" in values)
        ):
            self._fields[self._select] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None

    def form(self, **wanted: str) -> tuple[dict[str, str], dict[str, str]] | None:
        """The attributes and fields of the first form whose attributes have these values (hx_post for hx-post)."""
        for attrs, fields in self.forms:
            if all(attrs.get(key.replace("_", "-")) == value for key, value in wanted.items()):
                return attrs, dict(fields)
        return None


def sign_in_form(html: str) -> dict[str, str]:
    for attrs, fields in PageForms(html).forms:
        if "data-sign-in-form" in attrs:
            return dict(fields)
    return {}


# The people ----------------------------------------------------------------------------------------


class StaffUser(HttpUser):
    """Someone of the clinic's staff with a browser: signs in fully, then works."""

    abstract = True
    accounts: list[dict[str, Any]] = []

    def on_start(self) -> None:
        if not self.accounts:
            raise StopUser
        self.account = self.accounts.pop(0)
        if OPTIONS.get("ca_file"):
            self.client.verify = OPTIONS["ca_file"]
        self.sign_in()

    def browser_headers(self, page: str) -> dict[str, str]:
        """What a browser sends with a POST from `page`: the page as Referer, this site as Origin."""
        return {"Referer": self.host + page, "Origin": self.host}

    def sign_in(self) -> None:
        """The log-in page, the password, then the authenticator code, as people do it."""
        with self.client.get("/login/", name="GET /login/", catch_response=True) as page:
            fields = sign_in_form(page.text)
            if page.status_code != 200 or "csrfmiddlewaretoken" not in fields:
                page.failure(f"HTTP {page.status_code}: no log-in form")
                raise StopUser
        fields.update(username=self.account["username"], password=self.account["password"])
        with self.client.post(
            "/login/",
            data=fields,
            headers=self.browser_headers("/login/"),
            allow_redirects=False,
            name="POST /login/ (password)",
            catch_response=True,
        ) as answer:
            code_page = answer.headers.get("Location", "")
            if answer.status_code != 302 or not code_page.startswith("/login/code/"):
                answer.failure(f"HTTP {answer.status_code}, to {code_page!r}: the password was not accepted")
                raise StopUser
        with self.client.get(code_page, name="GET /login/code/", catch_response=True) as page:
            fields = sign_in_form(page.text)
            if page.status_code != 200 or "code" not in fields:
                page.failure(f"HTTP {page.status_code}: no authenticator code form")
                raise StopUser
        # The code the app shows now; run.py started locust only after the code of the enrolment was spent.
        key = bytes.fromhex(self.account["totp_key"])
        fields["code"] = f"{totp(key, step=self.account['totp_step'], digits=self.account['totp_digits']):06d}"
        with self.client.post(
            code_page,
            data=fields,
            headers=self.browser_headers(code_page),
            allow_redirects=False,
            name="POST /login/code/",
            catch_response=True,
        ) as answer:
            if answer.status_code != 302 or answer.headers.get("Location", "").startswith("/login"):
                answer.failure(f"HTTP {answer.status_code}: the authenticator code was not accepted")
                raise StopUser
        # The home page sends each role to where its work starts (nurses: patients; physicians: worklist).
        self.get_page("/", "GET / (home, after sign-in)")

    def get_page(self, path: str, name: str, must_contain: str = "") -> str:
        with self.client.get(path, name=name, catch_response=True) as page:
            if page.status_code != 200:
                page.failure(f"HTTP {page.status_code}")
            elif must_contain and must_contain not in page.text:
                page.failure(f"the page does not show {must_contain!r}")
            return page.text


class NurseUser(StaffUser):
    """A nurse at the chair: the board, her own patient's session page, a reading every little while."""

    wait_time = between(5, 15)
    accounts = NURSE_ACCOUNTS

    def on_start(self) -> None:
        super().on_start()
        self.session_url = f"/sessions/{self.account['session']}/"
        self.vitals_url = f"{self.session_url}vitals/"
        self.readings_saved = 0
        self.hx_headers: dict[str, str] = {}
        self.listeners: dict[str, list[tuple[str, str]]] = {}
        self.vitals_form: tuple[dict[str, str], dict[str, str]] | None = None

    @task
    def chart_a_round(self) -> None:
        self.get_page("/sessions/today/", "GET /sessions/today/ (board)", must_contain='id="board"')
        self.wait()
        self.open_session()
        for _ in range(READINGS_PER_ROUND):
            self.wait()
            self.chart_reading()
        self.wait()
        self.refresh_board()

    def open_session(self) -> None:
        form_tag = f'hx-post="{self.vitals_url}"'
        page = PageForms(self.get_page(self.session_url, "GET /sessions/[id]/ (nurse)", must_contain=form_tag))
        self.hx_headers = page.hx_headers
        self.listeners = page.listeners
        self.vitals_form = page.form(hx_post=self.vitals_url)

    def chart_reading(self) -> None:
        """One vitals row through the session page's htmx form; the answer holds the next, fresh form."""
        if self.vitals_form is None:
            return
        form_attrs, form_fields = self.vitals_form
        note = f"Load test {self.account['username']} reading {self.readings_saved + 1}"
        systolic = random.randint(105, 145)
        fields = {
            **form_fields,
            "systolic": str(systolic),
            "diastolic": str(random.randint(60, systolic - 30)),
            "heart_rate": str(random.randint(58, 98)),
            "spo2": str(random.randint(94, 100)),
            "respiratory_rate": str(random.randint(11, 19)),
            "note": note,
        }
        headers = {
            **self.browser_headers(self.session_url),
            **self.hx_headers,
            "HX-Request": "true",
            "HX-Current-URL": self.host + self.session_url,
            "HX-Target": form_attrs.get("hx-target", "").lstrip("#"),
        }
        with self.client.post(
            self.vitals_url,
            data=fields,
            headers=headers,
            name="POST /sessions/[id]/vitals/ (htmx)",
            catch_response=True,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code}")
                self.vitals_form = None
                return
            self.vitals_form = PageForms(answer.text).form(hx_post=self.vitals_url)
            if "Reading saved." not in answer.text:
                answer.failure(f"not saved: {refusal(answer.text)}")
                return
            self.readings_saved += 1
            with open(OPTIONS["readings_file"], "a") as readings:
                readings.write(json.dumps({"session": self.account["session"], "note": note}) + "\n")
            if self.vitals_form is None:
                answer.failure("the answer has no form for the next reading")
            events_named = server_events(answer.headers)
        for event in events_named:
            for element, url in self.listeners.get(event, []):
                self.htmx_get(url, element, f"GET {id_pattern(url)} (htmx)")

    def htmx_get(self, url: str, element: str, name: str) -> None:
        """What htmx sends when an element of the session page fetches itself again."""
        headers = {
            **self.hx_headers,
            "HX-Request": "true",
            "HX-Current-URL": self.host + self.session_url,
            "HX-Target": element,
            "HX-Trigger": element,
        }
        with self.client.get(url, headers=headers, name=name, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code}")

    def refresh_board(self) -> None:
        """The board's own background refresh (htmx, every 15 s while it is open)."""
        headers = {
            **self.hx_headers,
            "HX-Request": "true",
            "HX-Current-URL": self.host + "/sessions/today/",
            "HX-Target": "board",
            "HX-Trigger": "board",
            "X-Background-Refresh": "1",
        }
        with self.client.get(
            "/sessions/today/", headers=headers, name="GET /sessions/today/ (htmx refresh)", catch_response=True
        ) as answer:
            if answer.status_code != 200 or 'id="board"' not in answer.text:
                answer.failure(f"HTTP {answer.status_code}: no board")


class PhysicianUser(StaffUser):
    """A physician reviewing: the worklist, patients' histories and trends, session pages."""

    wait_time = between(5, 15)
    accounts = PHYSICIAN_ACCOUNTS

    @task(2)
    def worklist(self) -> None:
        self.get_page("/worklist/", "GET /worklist/", must_contain="Worklist")

    @task(3)
    def patient_history(self) -> None:
        patient = random.choice(REVIEW["patients"])
        self.get_page(f"/patients/{patient}/history/", "GET /patients/[id]/history/", must_contain="History")

    @task(3)
    def session_page(self) -> None:
        session = random.choice(REVIEW["sessions"])
        self.get_page(f"/sessions/{session}/", "GET /sessions/[id]/ (physician)", must_contain='id="vitals"')


def server_events(headers) -> list[str]:
    """The events an answer asks htmx to raise (HX-Trigger headers: a name, names, or JSON keyed by name)."""
    names: list[str] = []
    for header in ("HX-Trigger", "HX-Trigger-After-Swap", "HX-Trigger-After-Settle"):
        value = headers.get(header, "").strip()
        if value.startswith("{"):
            names.extend(json.loads(value))
        elif value:
            names.extend(name.strip() for name in value.split(","))
    return names


def id_pattern(url: str) -> str:
    """The URL with its ids as [id], so that every session's request counts as one type."""
    return "/".join("[id]" if part.isdigit() else part for part in url.split("/"))


def refusal(html: str) -> str:
    """The first error message of a refused form, to say why in the failure."""
    for marker in ('class="invalid-feedback d-block"', 'class="alert alert-danger'):
        start = html.find(marker)
        if start >= 0:
            text = html[html.find(">", start) + 1 :]
            return text[: text.find("<")].strip() or marker
    return "no 'Reading saved.' in the answer"
