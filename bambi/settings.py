"""Bambi settings: one file, read from the environment (django-environ).

With DEBUG on, every secret has a development default so `scripts/run` works on a fresh
machine; features that need a real secret (Stripe, OAuth) say so on their page. With DEBUG
off, a missing required secret stops start-up with a sentence naming it.
"""

import os
import sys
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from bambi.netguard import parse_host_port as _parse_host_port

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Under pytest the suite supplies its own database and throwaway secrets.
TESTING = env.bool("BAMBI_TESTING", default=False) or "pytest" in sys.modules
# The development `.env` that `scripts/run` writes on first start (DEBUG=1 and generated
# secrets), so every `manage.py` command gets them. Variables already in the environment win.
# BAMBI_ENV_FILE names another file, or none when empty: the tests set their own environment,
# and neither they nor the processes they start may pick up a developer's `.env`.
ENV_FILE = os.environ.get("BAMBI_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and not TESTING:
    environ.Env.read_env(ENV_FILE, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Development-only values. They are never used with DEBUG off: `_required` refuses them.
_DEV_SECRET_KEY = "django-insecure-bambi-development-only-secret-key-do-not-use"
# A valid Fernet-format key (32 url-safe base64 bytes), for development only.
_DEV_ENCRYPTION_KEY = "ZGV2ZWxvcG1lbnQta2V5LWJhbWJpLWRvLW5vdC11c2U="


def _required(name: str, dev_default: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG or TESTING:
        return dev_default
    raise ImproperlyConfigured(
        f"The environment variable {name} is required when DEBUG is off; set it and start again."
    )


SECRET_KEY = _required("SECRET_KEY", _DEV_SECRET_KEY)
ENCRYPTION_KEYS = [k.strip() for k in _required("ENCRYPTION_KEY", _DEV_ENCRYPTION_KEY).split(",")]
ENCRYPTION_KEYS = [k for k in ENCRYPTION_KEYS if k]
# Development databases made before `scripts/run` generated a key of its own keep their stored
# keys readable: this well-known key only decrypts (byok.crypto), and never with DEBUG off.
ENCRYPTION_DECRYPT_ONLY_KEYS = (
    [_DEV_ENCRYPTION_KEY] if DEBUG and _DEV_ENCRYPTION_KEY not in ENCRYPTION_KEYS else []
)

if DEBUG or TESTING:
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
else:
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "The environment variable ALLOWED_HOSTS is required when DEBUG is off "
            "(comma-separated host names); set it and start again."
        )

APP_URL = env.str("APP_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[APP_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.github",
    "djstripe",
    "csp",
    "accounts",
    "byok",
    "generations",
    "billing",
    "tokens",
    "bambi.apps.BambiConfig",  # configuration checks (bambi/checks.py)
]

MIDDLEWARE = [
    # Outermost: times the whole request for the Server-Timing header (bambi/timing.py).
    "bambi.timing.ServerTimingMiddleware",
    # First: nothing may read the request's headers before dj-stripe's test header is dropped.
    "billing.middleware.StripeWebhookTestHeaderGuard",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "bambi.urls"
WSGI_APPLICATION = "bambi.wsgi.application"

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
                "bambi.context_processors.navigation",
                "billing.context_processors.billing",
            ],
        },
    },
]


def _url_setting(name: str, parse, default: str, example: str):
    """A URL variable parsed by django-environ, or a sentence naming it (never its value:
    it may hold a password)."""
    try:
        value = parse(name, default=default)
    except (ImproperlyConfigured, KeyError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"The environment variable {name} is not a URL Bambi can use ({exc}); expected "
            f"something like {example}."
        ) from None
    return value


def _number(name: str, default, cast=float):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return cast(raw)
    except ValueError:
        kind = "a whole number" if cast is int else "a number"
        raise ImproperlyConfigured(
            f"The environment variable {name} must be {kind} (it is {raw[:30]!r})."
        ) from None


_DATABASE_EXAMPLE = "postgres://user:password@host:5432/bambi or sqlite:///path/to/db.sqlite3"
DATABASES = {
    "default": _url_setting(
        "DATABASE_URL", env.db, f"sqlite:///{BASE_DIR / 'db.sqlite3'}", _DATABASE_EXAMPLE
    ),
}
if DATABASES["default"].get("ENGINE") not in (
    "django.db.backends.postgresql",
    "django.db.backends.sqlite3",
):
    raise ImproperlyConfigured(
        "The environment variable DATABASE_URL must point at PostgreSQL or SQLite, e.g. "
        f"{_DATABASE_EXAMPLE}."
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Provider calls hold a request for seconds: bound connections per process with
    # psycopg's pool instead of one connection per thread (see README "Production").
    if env.bool("DATABASE_POOL", default=not TESTING):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": _number("DATABASE_POOL_MIN", 1, int),
            # 20 per worker: with gunicorn's 256 threads, a burst of generations waits less
            # for a connection (bench/concurrency.py); still workers × 20 at most.
            "max_size": _number("DATABASE_POOL_MAX", 20, int),
            # Waiting for a connection beats failing: after a provider call the images are
            # already paid for. 30 s covers a burst of answers all landing at once
            # (bench/concurrency.py: 240 at the same moment on 2 cores).
            "timeout": _number("DATABASE_POOL_TIMEOUT", 30, int),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = _number("CONN_MAX_AGE", 0, int)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite (the development default) lets one writer in at a time. IMMEDIATE takes the write
    # lock when a transaction begins rather than at its first write, so two transactions that
    # read then write (the key limit's check and insert) queue on the busy timeout instead of
    # one of them failing with "database is locked".
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("transaction_mode", "IMMEDIATE")
    _options.setdefault("timeout", 20)
    _name = str(DATABASES["default"]["NAME"])
    if _name and _name != ":memory:" and not _name.startswith("file:"):
        # Tests on SQLite use a file beside the database, not memory: the concurrency tests
        # open several connections, as runserver's threads do.
        _test_name = Path(_name).with_name("test_" + Path(_name).name)
        DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", str(_test_name))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": _url_setting("CACHE_URL", env.cache, "locmemcache://", "redis://cache:6379/0")}
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # Django's default of 300 entries holds a dozen gallery pages' rendered cards
    # (generations.cards): a user paging through a big gallery had every card rendered again.
    # 20,000 entries (cards are ~2 kB) keep a 10,000-generation gallery for ~40 MB a process.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault(
        "MAX_ENTRIES", _number("CACHE_MAX_ENTRIES", 20_000, int)
    )

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/dashboard/"

# --- django-allauth -------------------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_UNIQUE_EMAIL = True
# The signup form says plainly that an address is taken (the product asks for it); the rate
# limits below keep that from being used to enumerate accounts quickly.
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Bambi AI] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if APP_URL.startswith("https") else "http"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
# How many proxies of ours stand in front of the app (the README's load balancer: 1). The client
# address is then read from X-Forwarded-For through exactly that many hops (bambi.client_ip);
# 0 ignores the header, which is right when clients reach the app directly.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT  # allauth reads it too; same answer
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False

SOCIALACCOUNT_PROVIDERS: dict = {}
# OAuth apps come from the environment (no SocialApp row); a provider whose id is unset is
# simply not offered, so its button does not show.
for _provider, _scope in (("google", ["profile", "email"]), ("github", ["user:email"])):
    _client_id = env.str(f"{_provider.upper()}_CLIENT_ID", default="")
    _secret = env.str(f"{_provider.upper()}_CLIENT_SECRET", default="")
    if _client_id and _secret:
        SOCIALACCOUNT_PROVIDERS[_provider] = {
            "APP": {"client_id": _client_id, "secret": _secret, "key": ""},
            "SCOPE": _scope,
        }

# --- email -------------------------------------------------------------------------------------
EMAIL_CONFIG = _url_setting(
    "EMAIL_URL", env.email, "consolemail://", "smtp+tls://user:password@smtp.example.com:587"
)
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Bambi AI <no-reply@bambi.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- i18n --------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates written as each language writes them ("29 Nov 2026", "29 nov. 2026"): bambi/formats/.
FORMAT_MODULE_PATH = ["bambi.formats"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- static and media ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Images are private: MEDIA_ROOT is never served by URL; the owner-checking view streams files.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "/media-not-served/"
_static_backend = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
    if DEBUG or TESTING
    else "whitenoise.storage.CompressedManifestStaticFilesStorage"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _static_backend},
}
if env.str("AWS_STORAGE_BUCKET_NAME", default=""):
    # S3-compatible storage through django-storages; objects are private (signed access only
    # through Bambi's own views, which stream the bytes).
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "access_key": env.str("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# --- Stripe (dj-stripe) --------------------------------------------------------------------------
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_PREMIUM_PRICE_ID = env.str("STRIPE_PREMIUM_PRICE_ID", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# True only when Bambi can really talk to Stripe; pages say "Billing is not configured" otherwise.
BILLING_CONFIGURED = bool(STRIPE_SECRET_KEY and STRIPE_PREMIUM_PRICE_ID)
if STRIPE_LIVE_MODE:
    STRIPE_LIVE_SECRET_KEY = STRIPE_SECRET_KEY
else:
    STRIPE_TEST_SECRET_KEY = STRIPE_SECRET_KEY
if STRIPE_API_BASE:
    STRIPE_API_HOST = STRIPE_API_BASE.rstrip("/")
# Stripe calls (Checkout, Portal, dj-stripe's syncs) give up quickly: a Stripe outage answers
# 502 within (connect + read) × (retries + 1) + ~0.5 s of back-off, 14.5 s with these defaults,
# instead of stripe-python's 80 s per attempt. Retries are safe: stripe-python sends an
# idempotency key with each POST.
STRIPE_CONNECT_TIMEOUT = env.float("STRIPE_CONNECT_TIMEOUT", default=2.0)
STRIPE_READ_TIMEOUT = env.float("STRIPE_READ_TIMEOUT", default=5.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=1)
# dj-stripe's `X-Djstripe-Webhook-Secret` shortcut (DEBUG only) lets a request name its own
# signing secret; refused unless this is set (billing.middleware).
STRIPE_WEBHOOK_TEST_HEADER = env.bool("STRIPE_WEBHOOK_TEST_HEADER", default=False)
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
DJSTRIPE_SUBSCRIBER_MODEL = "accounts.User"
DJSTRIPE_USE_NATIVE_JSONFIELD = True
# dj-stripe's migrations plus a squash of them that a new database applies in seconds instead
# of ~50 s (billing/djstripe_migrations/__init__.py explains).
MIGRATION_MODULES = {"djstripe": "billing.djstripe_migrations"}

# --- providers -----------------------------------------------------------------------------------
PROVIDER_CONNECT_TIMEOUT = _number("PROVIDER_CONNECT_TIMEOUT", 5.0)
PROVIDER_READ_TIMEOUT = _number("PROVIDER_READ_TIMEOUT", 120.0)
IMAGE_DOWNLOAD_MAX_BYTES = _number("IMAGE_DOWNLOAD_MAX_BYTES", 20 * 1024 * 1024, int)
# Provider answers (JSON with base64 images) are read up to this many bytes, gzip decoded.
PROVIDER_MAX_RESPONSE_BYTES = env.int("PROVIDER_MAX_RESPONSE_BYTES", default=64 * 1024 * 1024)
# How long a process keeps a catalogue row it read for a generation (byok.selectors); a
# change saved in another process is seen within this many seconds. 0: read it every time.
CATALOGUE_CACHE_SECONDS = _number("CATALOGUE_CACHE_SECONDS", 30.0)
# Open connections kept per provider address and worker process, reused by the next call
# (bambi/http.py `api_session`).
PROVIDER_POOL_SIZE = _number("PROVIDER_POOL_SIZE", 64, int)
# Images over this many pixels are refused from their header, before any decoding.
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=64_000_000)
# Input images of an edit (generations.inputs): bytes and pixels per image (4096² covers the
# largest image any provider makes), and the body of a generation request carrying them as
# data: URLs (other bodies keep DATA_UPLOAD_MAX_MEMORY_SIZE).
INPUT_IMAGE_MAX_BYTES = _number("INPUT_IMAGE_MAX_BYTES", 20 * 1024 * 1024, int)
INPUT_IMAGE_MAX_PIXELS = _number("INPUT_IMAGE_MAX_PIXELS", 4096 * 4096, int)
GENERATION_REQUEST_MAX_BYTES = _number("GENERATION_REQUEST_MAX_BYTES", 50 * 1024 * 1024, int)
# Outgoing calls never reach private, loopback or link-local addresses (bambi.http), except
# these host:port pairs: local stand-ins for tests and benchmarks. Empty by default, DEBUG or not.
PROVIDER_PRIVATE_HOSTS = env.list("PROVIDER_PRIVATE_HOSTS", default=[])
for _entry in PROVIDER_PRIVATE_HOSTS:
    try:
        _parse_host_port(_entry)
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"PROVIDER_PRIVATE_HOSTS: {_exc}; write comma-separated pairs such as "
            "localhost:8765 or [::1]:8765."
        ) from None

# --- rate limits (bambi.ratelimit; counted in CACHES["default"], shared with CACHE_URL) ---------
# Key checks ask a provider whether a key works: from Bambi's address, a stolen-key tester's
# dream. Per user and per client address; 0 turns a limit off.
RATE_LIMIT_KEY_CHECKS_PER_MINUTE = env.int("RATE_LIMIT_KEY_CHECKS_PER_MINUTE", default=10)
RATE_LIMIT_KEY_CHECKS_PER_DAY = env.int("RATE_LIMIT_KEY_CHECKS_PER_DAY", default=100)
RATE_LIMIT_KEY_CHECKS_PER_IP_PER_MINUTE = env.int(
    "RATE_LIMIT_KEY_CHECKS_PER_IP_PER_MINUTE", default=30
)
# Premium is unlimited per month, not per second.
RATE_LIMIT_GENERATIONS_PER_MINUTE = env.int("RATE_LIMIT_GENERATIONS_PER_MINUTE", default=30)

# --- security ------------------------------------------------------------------------------------
# Content-Security-Policy on every response (django-csp): scripts, styles, fonts and fetches
# from this site only, no inline script or style anywhere (templates/ has none; the admin and
# dj-stripe pages that had some are overridden in templates/admin/ and templates/djstripe/),
# images also as data: and blob: URLs, no framing. Forms may post here, and be redirected to
# Stripe's Checkout/Portal and the OAuth providers' consent pages.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [
            SELF,
            "https://checkout.stripe.com",
            "https://billing.stripe.com",
            "https://accounts.google.com",
            "https://github.com",
        ],
    }
}
# Powerful browser features Bambi never uses are off for its pages and anything they embed.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
    )
}
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# A load balancer probes each server over plain HTTP, without X-Forwarded-Proto: /healthz
# answers it instead of redirecting to https (a 301 would read as "unhealthy"). Set whatever
# DEBUG is, so that turning SECURE_SSL_REDIRECT on never catches the probe.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not TESTING)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not TESTING)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not TESTING)
    SECURE_HSTS_SECONDS = _number("SECURE_HSTS_SECONDS", 31536000, int)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "bambi.redaction.RedactSecretsFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Replace Django's default handlers so every record goes through the redacting filter.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
CSRF_FAILURE_VIEW = "bambi.views.csrf_failure"
# Error pages and reports hide what sensitive_variables / sensitive_post_parameters name, with
# DEBUG on too (bambi/debug.py says why).
DEFAULT_EXCEPTION_REPORTER_FILTER = "bambi.debug.KeySafeExceptionReporterFilter"
