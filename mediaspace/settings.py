"""Django settings for MediaSpace.

Settings fail closed: DEBUG is off unless `DEBUG=1` asks for it, and with DEBUG off the
server refuses to start without a strong `SECRET_KEY`. `make run` gives the demo a key
of its own (`.secret-key`, made on first run). Production is `MEDIASPACE_PRODUCTION=1`
plus `SECRET_KEY`, `ALLOWED_HOSTS` and `DATABASE_URL` from the environment: HTTPS only,
DEBUG refused, and `manage.py check --deploy` clean. Every variable is listed in the
README's production checklist.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no setting from the environment."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated setting from the environment."""
    value = os.environ.get(name, "")
    return [item.strip() for item in value.split(",") if item.strip()] or default


def env_int(name: str, default: int, *, least: int = 0) -> int:
    """Read a whole number from the environment; refuse to start on a malformed one."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = least - 1
    if number < least:
        raise ImproperlyConfigured(f"{name} must be a whole number of at least {least}.")
    return number


# Keys that were published (in this project's history, in examples, in tutorials): a
# server signing sessions with one of these can have its sessions forged.
KNOWN_WEAK_KEYS = frozenset(
    {
        "dev-only-insecure-key-do-not-use-in-production",
        "a long random string",
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "secret-key",
        "secret_key",
        "secretkey",
        "django-insecure",
        "insecure",
        "password",
        "development",
        "test",
    }
)
SECRET_KEY_MIN_LENGTH = 50


def secret_key_problem(key: str) -> str | None:
    """Say what is wrong with a secret key for a server without DEBUG, or None if nothing."""
    advice = (
        "Set it to a long random value, for example the output of: "
        "python -c 'import secrets; print(secrets.token_urlsafe(64))'"
    )
    if not key.strip():
        return f"SECRET_KEY is not set. {advice}"
    if key.strip().lower() in KNOWN_WEAK_KEYS or key.startswith("django-insecure"):
        return f"SECRET_KEY is a published, well-known value. {advice}"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return (
            f"SECRET_KEY is too short ({len(key)} characters; at least "
            f"{SECRET_KEY_MIN_LENGTH} are needed). {advice}"
        )
    if len(set(key)) < 5:
        return f"SECRET_KEY repeats too few characters to be random. {advice}"
    return None


PRODUCTION = env_bool("MEDIASPACE_PRODUCTION", False)

# Off unless asked for: a server that forgot the variable shows no tracebacks.
DEBUG = env_bool("DEBUG", False)

if PRODUCTION and DEBUG:
    raise ImproperlyConfigured(
        "DEBUG is on in production mode (MEDIASPACE_PRODUCTION=1): debug pages show "
        "settings and code to anyone. Unset DEBUG."
    )

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if DEBUG and not SECRET_KEY:
    # Asked-for development without a key: a fresh random one (sessions end on restart).
    SECRET_KEY = secrets.token_urlsafe(64)
elif problem := secret_key_problem(SECRET_KEY):
    raise ImproperlyConfigured(problem)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set: name the host(s) the site answers to, comma-separated "
        "(for example ALLOWED_HOSTS=media.example.com)."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "guardian",
    "axes",
    "django_tasks_db",
    "accounts",
    "mediaspace",
    "rooms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionIdleTimeoutMiddleware",
    "accounts.middleware.PrivatePagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turns a sign-in refused for too many failures into the sign-in page saying so.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mediaspace.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # The hot lists' rows: `*.jinja` files beside the pages (mediaspace.templating).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "mediaspace.templating.environment"},
    },
]

WSGI_APPLICATION = "mediaspace.wsgi.application"
ASGI_APPLICATION = "mediaspace.asgi.application"

# SQLite is the embedded default: WAL lets readers and the writer work side by side,
# and IMMEDIATE transactions take the write lock up front instead of failing mid-way.
# Connections last (CONN_MAX_AGE) with a page cache of up to 64 MiB each: a new connection
# parses the schema again and starts with no page in memory, which cost a request some
# 3 ms (a list that reads a thousand scattered rows, twice its time).
SQLITE_PATH = Path(os.environ.get("MEDIASPACE_SQLITE_PATH", BASE_DIR / "db.sqlite3"))
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA busy_timeout=20000;"
        "PRAGMA cache_size=-65536;"
    ),
}

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Bind parameters on the server, so psycopg prepares the statements a connection
        # runs again and again (after five runs), and have PostgreSQL keep one plan per
        # prepared statement: left to choose, it planned My Media's statement (arms merged
        # in order, see mediaspace.access) afresh on every run, which cost more than
        # running it. The app's statements do not depend on their parameters' values for
        # a good plan.
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {
                "server_side_binding": True,
                "prepare_threshold": 5,
                "options": "-c plan_cache_mode=force_generic_plan",
            }
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": SQLITE_OPTIONS,
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before the next backend hashes the password.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No anonymous user: everything requires signing in.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Throttled sign-in (django-axes), on the site's sign-in page and the admin's. After
# MEDIASPACE_SIGN_IN_FAILURES failed attempts for one username from one address, that pair
# is refused, before any password is checked, until MEDIASPACE_SIGN_IN_COOLOFF_MINUTES
# after the last counted failure; MEDIASPACE_SIGN_IN_LOCKOUT=username locks the username
# from every address instead. One address that fails MEDIASPACE_SIGN_IN_ADDRESS_FAILURES
# times within the cool-off, whatever the usernames, is refused too: every attempt costs a
# password hash. Operators see attempts and unlock them under Axes in the admin.
AXES_HANDLER = "accounts.lockout.SignInHandler"
AXES_FAILURE_LIMIT = env_int("MEDIASPACE_SIGN_IN_FAILURES", 5, least=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("MEDIASPACE_SIGN_IN_COOLOFF_MINUTES", 15, least=1))
SIGN_IN_ADDRESS_FAILURES = env_int("MEDIASPACE_SIGN_IN_ADDRESS_FAILURES", 50, least=1)
SIGN_IN_LOCKOUT = os.environ.get("MEDIASPACE_SIGN_IN_LOCKOUT", "").strip() or "username+address"
if SIGN_IN_LOCKOUT not in {"username+address", "username"}:
    raise ImproperlyConfigured(
        "MEDIASPACE_SIGN_IN_LOCKOUT must be 'username+address' (the default) or 'username'."
    )
AXES_LOCKOUT_PARAMETERS = (
    [["username", "ip_address"]] if SIGN_IN_LOCKOUT == "username+address" else ["username"]
)
# The cool-off runs from the failure that locked: attempts during it neither count nor
# extend it, so "try again at" is a promise.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
# Every failure stays listed in the admin (Access failures), beyond the attempts that
# still count; `manage.py axes_reset_failure_logs --age DAYS` prunes them.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"
AXES_VERBOSE = False
# How many proxies in front of the app append to X-Forwarded-For (0: none, trust no header).
TRUSTED_PROXIES = env_int("MEDIASPACE_TRUSTED_PROXIES", 0)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "my_media"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Outside production, WhiteNoise serves straight from the app and project folders.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# A strict Content-Security-Policy: scripts and styles come from our own origin only;
# the rare inline script must carry the per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# A session ends after two weeks at most, and sooner when idle: after
# MEDIASPACE_IDLE_MINUTES without a request (MEDIASPACE_STAFF_IDLE_MINUTES for staff,
# whose sessions reach the admin). An open room counts as activity: it polls.
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_IDLE_SECONDS = 60 * env_int("MEDIASPACE_IDLE_MINUTES", 8 * 60, least=1)
SESSION_STAFF_IDLE_SECONDS = 60 * env_int("MEDIASPACE_STAFF_IDLE_MINUTES", 60, least=1)

# Request bodies: every form the app has fits in a few kilobytes (a chat message is at most
# 2,000 characters, Add moderators at most 100 people); the admin's largest, a group's
# member list, fits 10,000 members. Larger bodies are refused with 400 before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# Background work (Django's tasks framework): queued in the database and run by
# `manage.py db_worker`, which `make run` starts beside the web server. A task is queued
# only when what it needs is saved; it may run at once or much later (run_after).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Chat: each person may post MEDIASPACE_CHAT_MESSAGES messages per
# MEDIASPACE_CHAT_SECONDS, across all their rooms, browsers and tabs; more answer 429.
CHAT_RATE_MESSAGES = env_int("MEDIASPACE_CHAT_MESSAGES", 5, least=1)
CHAT_RATE_SECONDS = env_int("MEDIASPACE_CHAT_SECONDS", 10, least=1)

# Mail (password reset) goes to the SMTP server EMAIL_HOST. Without one it is printed on
# the console, except in production, where a reset link in the logs would hand accounts to
# whoever reads them: there it is dropped, and `check --deploy` fails (Django's mail.E001).
MAIL_HOST = os.environ.get("EMAIL_HOST", "")
if MAIL_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": MAIL_HOST,
                "port": env_int("EMAIL_PORT", 587, least=1),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.dummy.EmailBackend"
            if PRODUCTION
            else "accounts.mail.ReadableConsoleBackend"
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "MediaSpace <mediaspace@localhost>")
PASSWORD_RESET_TIMEOUT = 60 * 60  # a reset link works for an hour

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Axes tells every attempt at INFO; lockouts and failures are warnings.
        "axes": {"level": "WARNING"},
    },
}
