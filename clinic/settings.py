"""Settings for the clinic session-record system.

Every deployment-specific value comes from an environment variable; the README
lists them. Bad values fail loudly at start-up rather than at the bedside.
"""

import os
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from xstatic.pkg import bootstrap as xstatic_bootstrap

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
# Demo mode marks a server started by `make run`: demo accounts exist and the
# login page says so. Never set it in production.
DEMO_MODE = env_bool("DEMO_MODE")
# The default monitoring protocols (records.monitoring.DEFAULT_PROTOCOLS) are installed after
# `migrate` when the clinic has none; off only where a clinic (or a test) sets up its own.
MONITORING_DEFAULT_PROTOCOLS = env_bool("MONITORING_DEFAULT_PROTOCOLS", default=True)
# Demo only: the seeded demo accounts (records/management/demo/data.py) sign in without the
# authenticator-app step, so that anyone can try the demo. Empty outside demo mode, and the
# sign-in middleware also checks DEMO_MODE itself, so no list set here can exempt anyone in production.
MFA_EXEMPT_USERNAMES = ("nurse", "physician", "admin") if DEMO_MODE else ()

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. For local development set DEBUG=1; "
            'in production generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # No django.contrib.admin: every read and write goes through the app's own audited pages.
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    # Background tasks (django.tasks) stored in the database and run by `manage.py task_worker`.
    "django_tasks_db",
    "records",
]

MIDDLEWARE = [
    # First: one JSON line per request, timing everything below it (records.request_log).
    "records.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "records.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the session: keeps a writer's reads off a replica that has not caught up (records.replica).
    "records.replica.ReadYourWritesMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Order matters: time out an idle session first, then insist on the second
    # factor and a changed first password, and only then require a log-in.
    "records.middleware.IdleTimeoutMiddleware",
    "records.middleware.SignInCompletionMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out log-in into our lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "records.context_processors.clinic",
            ],
        },
    },
]

# Absent DATABASE_URL means an embedded SQLite file, so a new user needs no server.
_default_db = f"sqlite:///{BASE_DIR / 'var' / 'clinic.sqlite3'}"
if not os.environ.get("DATABASE_URL"):
    (BASE_DIR / "var").mkdir(exist_ok=True)
try:
    DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or _default_db)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL Django understands: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's own psycopg 3 pool; it requires persistent connections to be off.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = env_bool("DATABASE_POOL", default=True)
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a concurrent writer rather than failing at once; IMMEDIATE avoids
    # upgrade deadlocks when two requests write at the same moment.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

# A PostgreSQL streaming replica (hot standby) for reads that may lag: history, trends,
# audit reports, exports. Only code that asks for it reads there (records.replica); every
# write, every audit event and everything a user has just written stay on the primary.
# When the replica does not answer, those reads go to the primary (one log line).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL to name PostgreSQL too.")
    try:
        DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL is not a database URL Django understands: {exc}") from None
    # No pool for the replica: a pool waits up to its timeout for a server that is down. A
    # persistent connection per process, checked before reuse, fails at once instead, and
    # the reads go to the primary (records.replica).
    DATABASES["replica"]["CONN_MAX_AGE"] = 60
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"].setdefault("OPTIONS", {}).update(pool=False, connect_timeout=3)
    # A standby is read-only and follows the primary: the test run never creates a database
    # on it; it reads the primary's test database as it replicates (tests/test_replica.py).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# How long a replica that did not answer is left alone before it is tried again.
REPLICA_RETRY_SECONDS = env_int("REPLICA_RETRY_SECONDS", 30, minimum=1)

# Migrations carry literal SQL per database (triggers); VendorRouter runs each
# statement only on its own database. It must stay first in the list.
# ReplicaRouter keeps every model's reads and writes on the primary unless a read
# asks for the replica (records.replica), and migrates nothing on the replica.
DATABASE_ROUTERS = ["records.db_routers.VendorRouter", "records.db_routers.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "records.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# django-axes first: it refuses a locked-out username+address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"TIME_ZONE must be an IANA zone name such as Europe/London; got {TIME_ZONE!r}."
    ) from None
USE_I18N = True
USE_TZ = True  # stored in UTC, shown in the clinic's zone

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [("vendor/bootstrap", xstatic_bootstrap.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

SESSION_COOKIE_HTTPONLY = True
# The idle time-out is enforced by records.middleware.IdleTimeoutMiddleware; the
# cookie itself ends with the browser and never outlives a working day.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# The preload flag only allows submitting the domain to browsers' HTTPS-only list;
# set SECURE_HSTS_PRELOAD=0 for a domain whose subdomains cannot all use HTTPS.
SECURE_HSTS_PRELOAD = SECURE_HSTS_INCLUDE_SUBDOMAINS and env_bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Only our own origin; inline <script>/<style> only with the per-response nonce
# ({{ csp_nonce }}). Bootstrap's icons are data: SVGs in its stylesheet.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Sent by records.middleware.PermissionsPolicyMiddleware: no device features at all.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

# Log-in hardening.
# Sign out after this many minutes without a request made by the user (the
# board's background refresh does not count); the page warns a minute before.
IDLE_TIMEOUT_SECONDS = env_int("IDLE_TIMEOUT_MINUTES", 15, minimum=1) * 60
IDLE_WARNING_SECONDS = 60
# A re-authentication (password or authenticator code) is trusted for this long
# by views decorated with records.views.reauth.reauth_required.
REAUTH_WINDOW_SECONDS = env_int("REAUTH_WINDOW_MINUTES", 5, minimum=1) * 60
REAUTH_MAX_FAILURES = 5
# Two-factor sign-in: the issuer name shown in the authenticator app.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Clinic records")
RECOVERY_CODE_COUNT = 10
# django-axes: lock out a username from one address after this many failures,
# for AXES_COOLOFF_MINUTES; other addresses and other usernames are unaffected.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "records.views.auth.locked_out"
AXES_CLIENT_IP_CALLABLE = "records.actions.context.client_ip"
AXES_USERNAME_CALLABLE = "records.actions.context.login_username"
AXES_VERBOSE = False

# The number of proxies in front of the app whose X-Forwarded-For is trusted for
# the client address written to the audit log. 0: use the socket's address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

PATIENTS_PER_PAGE = 25
AUDIT_EVENTS_PER_PAGE = 50
# Report pages count matching events up to this many; past it they say "more than".
AUDIT_REPORT_COUNT_CAP = 10_000
# A verification started from the audit page runs within the request up to this
# many events (about 15-30 s); past it, as a background task (records.tasks).
AUDIT_VERIFY_IN_REQUEST_MAX = env_int("AUDIT_VERIFY_IN_REQUEST_MAX", 300_000)

# FHIR R4: the read API under /fhir/ and the bulk export (README, "FHIR").
# The system (URI) of the clinic's medical record numbers in Patient.identifier:
# the clinic's own, e.g. urn:oid:... or https://clinic.example/mrn.
FHIR_MRN_SYSTEM = os.environ.get("FHIR_MRN_SYSTEM", "urn:clinic-records:mrn")
# Where exports started from the admin page are written (one directory each, and its zip).
FHIR_EXPORT_DIR = Path(os.environ.get("FHIR_EXPORT_DIR") or BASE_DIR / "var" / "exports" / "fhir")
# Search results per page (`_count` may ask for fewer, or more up to the maximum).
FHIR_PAGE_SIZE = 50
FHIR_MAX_PAGE_SIZE = 200


def env_rate(name: str, default: str) -> str:
    raw = os.environ.get(name, default).strip()
    if not re.fullmatch(r"[1-9][0-9]*/[smhd]", raw):
        raise ImproperlyConfigured(f"{name} must be a number of requests per s, m, h or d, e.g. 300/m; got {raw!r}.")
    return raw


# Requests per token, and per client address (before the token is known).
FHIR_API_RATE_LIMIT = env_rate("FHIR_API_RATE_LIMIT", "300/m")
FHIR_API_RATE_LIMIT_PER_ADDRESS = env_rate("FHIR_API_RATE_LIMIT_PER_ADDRESS", "600/m")

# django-ratelimit (its is_ratelimited function, called by records.views.fhir) counts
# requests in a cache that every worker process shares: the database's (table
# records_ratelimit_cache, created by a migration), not the default per-process memory
# cache, which would let each gunicorn worker count on its own. The database cache's
# increment is not atomic: two requests of the same token at the same instant may count
# once. That only lets a runaway client a few requests past the limit; it never lets a
# request past its token or its role. (django-ratelimit's own system check, which
# refuses non-atomic caches, is not installed: the app is not in INSTALLED_APPS, as
# only the function is used.) A deployment with memcached or Redis can point the
# "ratelimit" cache at it instead.
#
# Every web process is stateless, so that several can run behind a load balancer:
# login sessions are in the database (django.contrib.sessions' default engine, stated
# below), the idle time-out is kept in the session, django-axes counts failed log-ins
# in its own tables, and the default cache is the database's too (table
# clinic_cache, made by `manage.py createcachetable`: `make run`, the test run and
# the deployment steps in the README run it after migrate). It holds the background
# tasks' progress and the worker's heartbeat (records.tasks), which the web processes
# read. No per-process memory cache holds anything that must be shared.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "clinic_cache"},
    "ratelimit": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "records_ratelimit_cache"},
}
RATELIMIT_USE_CACHE = "ratelimit"
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Background tasks (Django's tasks framework): the queue is a database table
# (django-tasks-db), worked by `manage.py task_worker` (`make run` starts one; in
# production it is its own service, deploy/systemd/clinic-task-worker.service).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The worker writes a heartbeat this often; /health/ calls it dead after WORKER_HEARTBEAT_MAX_AGE.
WORKER_HEARTBEAT_SECONDS = 10
WORKER_HEARTBEAT_MAX_AGE = env_int("WORKER_HEARTBEAT_MAX_AGE_SECONDS", 60, minimum=15)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"bare": {"format": "%(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        # One JSON object a line, as written by records.request_log: nothing to add around it.
        "request_json": {"class": "logging.StreamHandler", "formatter": "bare"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Lock-outs are in the audit log; axes' own per-attempt lines would only repeat them.
        "axes": {"level": "WARNING"},
        # One JSON line per request (method, path, status, duration, SQL time and count, user, role).
        "clinic.requests": {
            "handlers": ["request_json"],
            "level": "INFO" if env_bool("REQUEST_LOG", default=True) else "WARNING",
            "propagate": False,
        },
        # runserver's own line per request would repeat ours.
        "django.server": {"level": "WARNING"},
    },
}
