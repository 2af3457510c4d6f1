"""Django settings for OneCard, read from the environment.

Environment variables:
    DATABASE_URL          sqlite:///path or postgres://user@host:port/name
                          (default: sqlite in ONECARD_VAR_DIR)
    ONECARD_SECRET_KEY    required when ONECARD_DEBUG is off and not running the demo/test setup
    ONECARD_DEBUG         "1" to enable debug pages (off by default)
    ONECARD_ALLOWED_HOSTS comma-separated host names (default: localhost,127.0.0.1)
    ONECARD_VAR_DIR       where the SQLite file, static files and secrets live (default: ./var)
"""

import importlib.util
import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("ONECARD_VAR_DIR", Path.cwd() / "var")).resolve()


def _flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key():
    """Use ONECARD_SECRET_KEY, else a random key kept in VAR_DIR (never in the repository)."""
    key = os.environ.get("ONECARD_SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


DEBUG = _flag("ONECARD_DEBUG")
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ONECARD_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("ONECARD_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "js_lib_htmx",
    "onecard.core",
    "onecard.audit",
    "onecard.organizations",
    "onecard.accounts",
    "onecard.people",
    "onecard.service",
    "onecard.wallet",
    "onecard.projects",
    "onecard.notifications",
    "onecard.cards",
    "onecard.terminals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "onecard.core.middleware.RejectHostileRequestMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "onecard.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "onecard.urls"
WSGI_APPLICATION = "onecard.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["onecard.accounts.backends.LockoutModelBackend"]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:dashboard"
LOGOUT_REDIRECT_URL = "console:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "onecard.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'onecard.sqlite3'}"
# Connections persist between requests (a new one per request cost half of a terminal
# purchase's time: docs/benchmarks.md); health checks drop one the server closed.
_database = dj_database_url.parse(
    DATABASE_URL, conn_max_age=int(os.environ.get("ONECARD_CONN_MAX_AGE", "60")),
    conn_health_checks=True,
)
if _database["ENGINE"] == "django.db.backends.sqlite3":
    Path(_database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _database["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so check-then-write inside an atomic block
        # cannot be interleaved by another writer (STYLE.md rule 7).
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # A 32 MiB page cache per connection (SQLite's default is 2 MiB): a batch's inserts
        # into the transfer indexes and its client-id look-up then mostly find their pages in
        # memory (19.7 → 13 ms per batch of 500 at 60,000 transfers: docs/benchmarks.md).
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
            "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000; PRAGMA cache_size=-32768;"
        ),
    }
elif _database["ENGINE"] in {
    "django.db.backends.postgresql",
    "django.db.backends.postgresql_psycopg2",
}:
    _database["ENGINE"] = "django.db.backends.postgresql"
    # Statements from ``onecard.core.sql.hot_cursor`` are prepared on their second run (ADR
    # 0010); Django's own client-side-binding cursors are never prepared.
    _database["OPTIONS"] = {"prepare_threshold": 1}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Passwords and log-in ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "onecard.accounts.validators.CharacterClassValidator"},
]
# After this many failed log-ins within the window, the account name is locked for the window.
ONECARD_LOGIN_MAX_FAILURES = int(os.environ.get("ONECARD_LOGIN_MAX_FAILURES", "5"))
ONECARD_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("ONECARD_LOGIN_LOCKOUT_SECONDS", "900"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_SECURE = _flag("ONECARD_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files: served by the app itself (WhiteNoise), no CDN --------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request otherwise
_bootstrap_spec = importlib.util.find_spec("bootstrap_wrapper")
STATICFILES_DIRS = [BASE_DIR / "static"]
if _bootstrap_spec and _bootstrap_spec.origin:
    STATICFILES_DIRS.append(("bootstrap", Path(_bootstrap_spec.origin).parent.parent / "bootstrap"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Uploaded documents (project attachments). Never served publicly: views hand them out through
# the gatekeepers, so there is no MEDIA_URL route.
MEDIA_ROOT = VAR_DIR / "media"

# --- Request limits: terminals and uploads are untrusted ----------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # 1 MiB of JSON/form body
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
ONECARD_ROSTER_MAX_BYTES = 5 * 1024 * 1024
ONECARD_ROSTER_MAX_ROWS = 20000
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
# Adapters to the operator's systems (docs/cards.md): carrier register (BOSS), OTA, SMS.
ONECARD_CARRIER_ADAPTER = os.environ.get("ONECARD_CARRIER_ADAPTER",
                                         "onecard.cards.carrier.LocalCarrier")
ONECARD_SMS_ADAPTER = os.environ.get("ONECARD_SMS_ADAPTER",
                                     "onecard.notifications.adapters.LocalAdapter")
ONECARD_OTA_CHANNEL = os.environ.get("ONECARD_OTA_CHANNEL", "onecard.cards.channels.LocalChannel")
# ONECARD_OTA_EXPIRY (seconds) may be set here; provisioning defaults it to 24 h.

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "onecard.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "onecard.core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": "30/minute"},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OneCard API",
    "DESCRIPTION": "Operator, enterprise and self-service API of the OneCard one-card platform.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        # A ticket's status and its history rows' from/to statuses share one choice set.
        "TicketStatusEnum": "onecard.service.choices.TicketStatus",
        # Several apps have a "kind" and a "status": each choice set gets its own name.
        "CustomerKindEnum": "onecard.organizations.choices.CustomerKind",
        "GroupCustomerStatusEnum": "onecard.organizations.choices.GroupCustomerStatus",
        "MemberStatusEnum": "onecard.people.choices.MemberStatus",
        "ProjectStatusEnum": "onecard.projects.choices.ProjectStatus",
        "ProjectStageKindEnum": "onecard.projects.choices.StageKind",
        "ProjectStageStatusEnum": "onecard.projects.choices.StageStatus",
        "ProjectEventKindEnum": "onecard.projects.choices.EventKind",
        "TicketEventKindEnum": "onecard.service.choices.TicketEventKind",
        "WorkOrderStatusEnum": "onecard.service.choices.WorkOrderStatus",
        "AccountKindEnum": "onecard.wallet.choices.AccountKind",
        "AccountStatusEnum": "onecard.wallet.choices.AccountStatus",
        "TransferKindEnum": "onecard.wallet.choices.TransferKind",
        "TransferPhaseEnum": "onecard.wallet.choices.TransferPhase",
        "CardMediumEnum": "onecard.cards.choices.CardMedium",
        "CardStatusEnum": "onecard.cards.choices.CardStatus",
        "CardEventKindEnum": "onecard.cards.choices.CardEventKind",
        "ApplicationKindEnum": "onecard.cards.choices.ApplicationKind",
        "ApplicationStatusEnum": "onecard.cards.choices.ApplicationStatus",
        "ProvisioningStatusEnum": "onecard.cards.choices.ProvisioningStatus",
        "CredentialStateEnum": "onecard.cards.choices.CredentialState",
        "OpeningChannelEnum": "onecard.cards.choices.OpeningChannel",
        "TicketChannelEnum": "onecard.service.choices.TicketChannel",
        "NotificationStatusEnum": "onecard.notifications.choices.NotificationStatus",
        "TerminalKindEnum": "onecard.terminals.choices.TerminalKind",
        "TerminalStateEnum": "onecard.terminals.choices.TerminalState",
        "TerminalAlertKindEnum": "onecard.terminals.choices.AlertKind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ONECARD_LOG_LEVEL", "WARNING")},
}
