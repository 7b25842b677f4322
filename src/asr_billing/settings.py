"""Django settings, derived from the home folder (see asr_billing.home).

Nothing here has a production default for a secret: the keys come from files that
``asr-billing init`` generates in HOME/cfg/. A config that does not parse stops the
process at start with the file and line of the problem.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from asr_billing.core.cli_text import gettext as _
from asr_billing.core.config import ConfigError, ConfigFile
from asr_billing.home import HomeError, read_key_file, resolve_home

BASE_DIR = Path(__file__).resolve().parent

try:
    ASR_HOME = resolve_home()
    ASR_CONFIG = ConfigFile.load(ASR_HOME.config_file)
    SECRET_KEY = read_key_file(ASR_HOME.secret_key_file)
except (HomeError, ConfigError) as exc:
    raise ImproperlyConfigured(str(exc)) from exc

ASR_HOME.ensure_dirs()

DEBUG = False
# The billing is reached by IP from NAS, terminals and 1C; access is by the API allow-list.
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "asr_billing.core",
    "asr_billing.tariffs",
    "asr_billing.subscribers",
    "asr_billing.network",
    "asr_billing.finance",
    "asr_billing.billing",
    "asr_billing.cabinet",
    "asr_billing.system_api",
    "asr_billing.rest_v2",
    "asr_billing.gateways",
    "asr_billing.radius",
    "asr_billing.notify",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "asr_billing.api",
]

MIDDLEWARE = [
    # First: it times the whole request (/metrics, core/metrics.py).
    "asr_billing.core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "asr_billing.core.middleware.RuntimeConfigMiddleware",
    # /admin/?api=Y: the old REST API's login, only while network['api.legacy_rest'] is yes.
    "asr_billing.rest_v2.legacy_views.LegacyLoginMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "asr_billing.urls"
WSGI_APPLICATION = "asr_billing.wsgi.application"

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
            ],
        },
    },
]


def database_from_url(url: str, home=ASR_HOME) -> dict:
    """Turn app['db.url'] into a DATABASES entry. Empty means SQLite in HOME/var/."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(home.sqlite_file),
            "OPTIONS": {
                # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at
                # BEGIN, so two writers queue instead of failing with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # Keep the connection between requests: when the last connection to a WAL
            # database closes, SQLite checkpoints the WAL into the file and fsyncs it — a
            # connection per request made that 20 ms of every payment (bench/payment_intake.py).
            "CONN_MAX_AGE": 60,
        }
    parts = urlsplit(url)
    # JIT compiles big list queries (collector lists) for seconds and never pays back for
    # this short-query workload. Query parameters (?sslmode=require&connect_timeout=5) are
    # libpq connection parameters and pass through.
    options = {
        "options": "-c jit=off",
        # Statements are prepared only where asked for (core.db.prepared_cursor, the
        # payment path); psycopg's None would refuse even those. Django's own queries use
        # client-side binding and are never prepared, whatever this says.
        "prepare_threshold": 2**31 - 1,
        **dict(parse_qsl(parts.query)),
    }
    return {
        # Django's, with a health check that costs no round trip (core/postgresql/base.py).
        "ENGINE": "asr_billing.core.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


DATABASES = {"default": database_from_url(ASR_CONFIG.get("app", "db.url") or "")}
# app['db.replica_url']: heavy read-only lists from a streaming replica (core/replica.py).
_replica_url = ASR_CONFIG.get("app", "db.replica_url") or ""
if _replica_url:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        raise ImproperlyConfigured(
            _("app['db.replica_url'] needs PostgreSQL in app['db.url'] (the embedded SQLite "
              "has no replicas); unset it: asr-billing config unset app db.replica_url")
        )
    DATABASES["replica"] = database_from_url(_replica_url)
    # A replica that hangs must not hold requests: connecting fails fast (the primary
    # answers instead) and no statement there runs longer than a list may.
    DATABASES["replica"]["OPTIONS"].setdefault("connect_timeout", "2")
    DATABASES["replica"]["OPTIONS"]["options"] += " -c statement_timeout=30000"
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["asr_billing.core.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = ASR_CONFIG.get("app", "language") or "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = ASR_CONFIG.get("app", "time_zone") or "Europe/Moscow"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = ASR_HOME.var_dir / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every start without it
# Serve app static files straight from the packages: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True

# /api/v1/ (api/): JSON only, API keys, problem details; the schema by drf-spectacular.
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["asr_billing.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["asr_billing.api.permissions.HasScope"],
    "DEFAULT_SCHEMA_CLASS": "asr_billing.api.schema_text.ApiAutoSchema",
    "EXCEPTION_HANDLER": "asr_billing.api.problems.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
    "ORDERING_PARAM": "ordering",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "asr-billing API",
    "DESCRIPTION": "The REST API v1 of asr-billing (docs/api.md). Money is a string with two "
    "places; dates are ISO 8601; errors are RFC 9457 problem details.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "asr_billing.api.schema.add_problem_responses",
    ],
}

# Behind nginx with TLS: the request was HTTPS when the proxy says so (core/middleware.py
# drops the header unless it comes from network['api.trusted_proxies']).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGIN_URL = "/admin/login/"
# The cabinet pages answer a refused form in the subscriber's words; every other path gets
# Django's own page (cabinet/web/auth.py).
CSRF_FAILURE_VIEW = "asr_billing.cabinet.web.auth.csrf_failure"

# Money: one precision policy (core/money.py reads these).
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2

# app['log.format']: plain text lines or one JSON object per line (read at start).
LOG_FORMAT = "json" if ASR_CONFIG.get("app", "log.format") == "json" else "plain"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "asr_billing.core.logging.RedactSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "asr_billing.core.logging.JsonFormatter"},
    },
    "handlers": {
        "error_file": {
            "class": "logging.handlers.WatchedFileHandler",
            "filename": str(ASR_HOME.error_log),
            "level": "ERROR",
            "formatter": LOG_FORMAT,
            "filters": ["redact"],
            "encoding": "utf-8",
        },
        "system_api_file": {
            "class": "logging.handlers.WatchedFileHandler",
            "filename": str(ASR_HOME.system_api_log),
            "formatter": LOG_FORMAT,
            "filters": ["redact"],
            "encoding": "utf-8",
        },
    },
    "loggers": {
        "django": {"handlers": ["error_file"], "level": "ERROR", "propagate": False},
        "asr_billing": {"handlers": ["error_file"], "level": "ERROR", "propagate": False},
        "asr_billing.system_api": {
            "handlers": ["system_api_file", "error_file"],
            "level": "ERROR",
            "propagate": False,
        },
    },
}
