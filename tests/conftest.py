import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client, TransactionTestCase
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from records.actions.accounts import account_create
from records.actions.context import Actor
from records.actions.patients import patient_create
from records.permissions import Role
from tests.dbtools import triggers_suspended

PASSWORD = "Chairside-test-pass-1"
_serial = itertools.count(1)


def pytest_configure(config):
    # Argon2 is deliberately slow; tests create hundreds of accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A test database starts as a clinic with no monitoring protocol (sessions follow the clinic's
    # vitals interval); the tests of protocols install the defaults themselves (`default_protocols`).
    settings.MONITORING_DEFAULT_PROTOCOLS = False
    # Templates render {% static %} without a collectstatic run; whitenoise serves from the finders.
    settings.WHITENOISE_USE_FINDERS = True
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    _static_files_scanned_once()


def _static_files_scanned_once() -> None:
    """WhiteNoise's middleware lists every static file when it is built, and Django's test client
    builds the middleware anew for each client: that listing was half the time of a test making one
    request. The files do not change during a run, so the listing is made once for each set of
    static-file settings and the later instances share it (it is only read when serving)."""
    from whitenoise.middleware import WhiteNoiseMiddleware

    build = WhiteNoiseMiddleware.__init__
    built: dict[tuple, dict] = {}

    def init(self, get_response=None, settings=settings):
        key = (
            settings.DEBUG,
            settings.STATIC_URL,
            str(settings.STATIC_ROOT),
            repr(settings.STATICFILES_DIRS),
            *(repr(getattr(settings, name, None)) for name in dir(settings) if name.startswith("WHITENOISE_")),
        )
        if key not in built:
            build(self, get_response, settings)
            built[key] = {name: value for name, value in vars(self).items() if name != "get_response"}
            return
        vars(self).update(built[key])
        self.get_response = get_response

    WhiteNoiseMiddleware.__init__ = init


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request):
    """On SQLite, a test database in a file when a collected test needs a second process or a live server.

    The monitor listener's tests run it as its own process (marker `separate_process`);
    an in-memory database cannot be shared with one. The browser tests' live server answers
    each request in its own thread: on an in-memory database all those threads share the test's
    one connection, and two requests at once (a page's poll beside a POST) then fail with
    "database table is locked", a 400 where the session is saved. On a file each thread has its
    own connection and waits its turn, as the clinic's server does. Other runs keep the in-memory
    database.

    On either database the test database's commits do not wait for the disk.
    """
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        # A test database is dropped at the end: its commits need not wait for the disk (each
        # browser-test step and transactional test commits; 0.17 ms a commit against 0.29 ms on the
        # 2026-12-03 machine). Checks and triggers run as before.
        options = database.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()
        return
    if database["ENGINE"] != "django.db.backends.sqlite3":
        return
    if not any(
        item.get_closest_marker("separate_process") or "live_server" in getattr(item, "fixturenames", ())
        for item in request.session.items
    ):
        return
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    path = settings.BASE_DIR / "var" / f"test_{worker}.sqlite3"
    path.parent.mkdir(exist_ok=True)
    database.setdefault("TEST", {})["NAME"] = str(path)
    # Thrown away at the end, so its commits need not wait for the disk (0.07 ms a commit against 0.87 ms
    # on the 2026-12-03 machine; the suites' times vary by more than that saves).
    options = database.setdefault("OPTIONS", {})
    options["init_command"] = "; ".join(filter(None, [options.get("init_command"), "PRAGMA synchronous=OFF"]))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, created and migrated by the owner; with TEST_APP_ROLE, the role's grants applied.

    The role is one `make pg-roles` (deploy/postgres/roles.sql) created on the test server; the
    deployment's grants.sql is applied to it here, and the tests in tests.dbtools.APP_ROLE_TESTS act
    as it (`_acting_as_the_application_role`), so an action that needs a grant the deployment lacks
    fails its test. CI's PostgreSQL run does so (.ci/test-databases).
    """
    from django.db import connection
    from django.db.backends.signals import connection_created

    from tests.dbtools import APP_ROLE, grant_app_role, role_for_the_test

    if not APP_ROLE:
        yield
        return
    if connection.vendor != "postgresql":
        raise pytest.UsageError("TEST_APP_ROLE needs PostgreSQL (DATABASE_URL=postgres://...).")
    with django_db_blocker.unblock():
        grant_app_role()
    connection_created.connect(role_for_the_test, dispatch_uid="tests_app_role")
    yield
    connection_created.disconnect(dispatch_uid="tests_app_role")


def pytest_collection_modifyitems(config, items):
    from tests.dbtools import APP_ROLE_TESTS

    for item in items:
        if item.nodeid.startswith(APP_ROLE_TESTS):
            item.add_marker(pytest.mark.app_role)
        if item.nodeid.startswith("tests/e2e/"):  # the browser tests (tests/e2e/conftest.py)
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.long_running)
    if hasattr(config, "workerinput"):  # an xdist worker: its collection is the order files are handed out in
        _long_files_first(items)


def _long_files_first(items) -> None:
    """With tests run in parallel (`make test`: a file to a worker), the files of long tests are handed out first.

    xdist otherwise hands out the files with the most tests first, which leaves the files of one to
    five long tests (the browser tests, the state machine: 10 to 60 s each) to the end, where one
    worker runs them while the other has nothing left (17 s on SQLite, 21 s on PostgreSQL, measured
    2026-12-03). Now the long files go first, most long tests first, then the rest, most tests first;
    a short file is what finishes last. Within a file the order is kept (pytest-django's). `make test`
    passes --no-loadscope-reorder, so that xdist keeps this order.
    """
    files: dict[str, list[int]] = {}
    file_of = {id(item): item.nodeid.split("::", 1)[0] for item in items}
    for item in items:
        counts = files.setdefault(file_of[id(item)], [0, 0])
        counts[0] += 1 if item.get_closest_marker("long_running") else 0
        counts[1] += 1
    rank = {name: rank for rank, name in enumerate(sorted(files, key=lambda name: (-files[name][0], -files[name][1])))}
    items.sort(key=lambda item: rank[file_of[id(item)]])


@pytest.fixture(autouse=True)
def _acting_as_the_application_role(request):
    """With TEST_APP_ROLE, a test marked `app_role` acts as that role from its first query to its last."""
    from tests.dbtools import APP_ROLE, acting_as_app_role

    if not (APP_ROLE and request.node.get_closest_marker("app_role")):
        yield
        return
    # Inside pytest-django's transaction (or, for a transactional test, before its tables are emptied).
    request.getfixturevalue("_django_db_helper")
    blocker = request.getfixturevalue("django_db_blocker")
    with blocker.unblock():
        role = acting_as_app_role()
        role.__enter__()
    try:
        yield
    finally:
        with blocker.unblock():
            role.__exit__(None, None, None)


@pytest.fixture(autouse=True, scope="session")
def _flush_past_protective_triggers():
    """Transactional tests empty the tables afterwards; the triggers would refuse that."""
    original = TransactionTestCase._fixture_teardown

    def teardown(self):
        # The flush re-sends post_migrate, which puts the role groups back. Both are the
        # owner's to do (triggers_suspended acts as the owner under TEST_APP_ROLE too).
        with triggers_suspended():
            original(self)

    TransactionTestCase._fixture_teardown = teardown
    yield
    TransactionTestCase._fixture_teardown = original


# A Wednesday morning in the clinic's time zone.
CLINIC_DAY = datetime(2026, 11, 25, 10, 0)


@pytest.fixture(autouse=True)
def _clinic_day():
    """Every test starts at 10:00 on the same clinic day, and the clock runs from there.

    So no test straddles midnight (a session made "today" and looked for on today's
    board after 00:00), and "today", "30 days ago" and the dates on pages are the same
    in every run. The live server of the browser tests runs in this process and sees
    the same clock. A test that needs another moment travels there itself.
    """
    with clinic_day_clock() as clock:
        yield clock


def an_hour_before_the_tests() -> datetime:
    """09:00 on CLINIC_DAY: when rows a module's tests share are made (tests/dbtools.py), before every test."""
    return CLINIC_DAY.replace(hour=9, tzinfo=ZoneInfo(settings.TIME_ZONE))


def clinic_day_clock() -> time_machine.travel:
    """The clock at 10:00 on CLINIC_DAY in the clinic's time zone, running (for fixtures wider than one test)."""
    return time_machine.travel(CLINIC_DAY.replace(tzinfo=ZoneInfo(settings.TIME_ZONE)), tick=True)


@pytest.fixture(autouse=True)
def _factories_start_afresh():
    """Factories give the same names and numbers in every test, whatever ran before it (tests/factories.py)."""
    from tests import factories

    factories.reset()


def verified_device(user) -> TOTPDevice:
    """A confirmed authenticator device for `user`, made as enrolment would make it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        from django_otp.oath import TOTP

        from records.actions.mfa import enrolment_device, mfa_enrol_confirm, mfa_enrol_new_key

        system = Actor.system("tests")
        key = mfa_enrol_new_key(actor=system, account=user)
        unsaved = enrolment_device(user, key)
        token = TOTP(unsaved.bin_key, unsaved.step, unsaved.t0, unsaved.digits, unsaved.drift).token()
        mfa_enrol_confirm(actor=system, account=user, key=key, token=f"{token:0{unsaved.digits}d}")
        device = TOTPDevice.objects.get(user=user, confirmed=True)
    return device


def _past_the_code_step(session, user) -> None:
    session[DEVICE_ID_SESSION_KEY] = verified_device(user).persistent_id
    session.save()


_django_force_login = Client.force_login


def signed_in_session(user) -> str:
    """The key of a new login session of `user`, past the authenticator step, as `client.force_login` makes
    (for fixtures wider than a test, which run before the autouse fixture below)."""
    client = Client()
    _django_force_login(client, user)
    _past_the_code_step(client.session, user)
    return client.session.session_key


@pytest.fixture(autouse=True)
def _force_login_is_a_full_sign_in(monkeypatch):
    """`client.force_login(user)` gives a session past the authenticator step, as a real sign-in would.

    Test-only: production always asks for the code (see records.middleware).
    """
    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        _past_the_code_step(self.session, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system("tests")


@pytest.fixture
def make_user(db, system_actor):
    def make(role: Role | str, username: str | None = None, **names):
        role = Role(role)
        username = username or f"{role.value}{next(_serial)}"
        return account_create(
            actor=system_actor,
            username=username,
            first_name=names.get("first_name", role.value.title()),
            last_name=names.get("last_name", f"Tester{next(_serial)}"),
            role=role,
            password=PASSWORD,
        )

    return make


@pytest.fixture
def nurse(make_user):
    return make_user(Role.NURSE, "nurse_a", first_name="Nina", last_name="Reyes")


@pytest.fixture
def physician(make_user):
    return make_user(Role.PHYSICIAN, "physician_a", first_name="Omar", last_name="Haddad")


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMIN, "admin_a", first_name="Ada", last_name="Stone")


def actor_for(user) -> Actor:
    return Actor.for_user(user, ip_address="127.0.0.1", user_agent="pytest")


@pytest.fixture
def make_patient(db, system_actor):
    def make(actor: Actor | None = None, **overrides):
        n = next(_serial)
        fields = {
            "mrn": f"MRN{n:05d}",
            "family_name": f"Family{n}",
            "given_name": "Given",
            "date_of_birth": date(1980, 1, 1),
            "sex": "female",
            "allergies": "No known allergies",
        }
        fields.update(overrides)
        return patient_create(actor=actor or system_actor, **fields)

    return make


@pytest.fixture
def patient(make_patient):
    return make_patient(mrn="MRN-TEST-1", family_name="Testwood", given_name="Harriet")


@pytest.fixture
def client_for(client):
    """A test client signed in as the given user."""

    def login(user, *, confirmed: bool = True):
        client.force_login(user)
        if confirmed:  # past the "confirm it is you" step that signing and co-signing ask for
            confirm_identity(client)
        return client

    return login


from tests.charting import sessions  # noqa: E402, F401  (fixture: build sessions through the actions)


def confirm_identity(client) -> None:
    """Mark the client's session as just re-authenticated, as the confirmation page would."""
    import time

    from records.views.reauth import REAUTH_AT_KEY

    session = client.session
    session[REAUTH_AT_KEY] = time.time()
    session.save()


@pytest.fixture
def default_protocols():
    """The clinic's default monitoring protocols, as `migrate` installs them for a new clinic."""
    from records.actions.protocols import install_default_protocols

    install_default_protocols()


def a_protocol():
    """A monitoring protocol for URLs that name one: the defaults, installed if the clinic has none."""
    from records.actions.protocols import install_default_protocols
    from records.models import MonitoringProtocol

    install_default_protocols()
    return MonitoringProtocol.objects.order_by("pk").first()
