"""PodNex settings: one module, read once from the environment (12-factor).

Every variable has an embedded default so a fresh clone runs with nothing installed
(SQLite, local media folder, filesystem Celery broker, in-process cache, offline providers).
Setting DATABASE_URL, REDIS_URL, S3_BUCKET_NAME, OPENAI_API_KEY, UNREAL_SPEECH_API_KEY,
DODO_PAYMENTS_API_KEY or SENTRY_DSN switches each part to the real engine.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured
from kombu.transport import TRANSPORT_ALIASES

from podnex.env import (
    check_url_schemes,
    env_addresses,
    env_bool,
    env_choice,
    env_float,
    env_float_item,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PODNEX_VAR_DIR", str(BASE_DIR / "var")))

# --- Core ---------------------------------------------------------------------------------

# The plan calls it NODE_ENV; PODNEX_ENV wins when both are set.
ENVIRONMENT = env_choice(
    "PODNEX_ENV", env_str("NODE_ENV", "development"), {"development", "test", "production"}
)
IS_PRODUCTION = ENVIRONMENT == "production"

# A URL whose scheme nothing here understands stops the start, in every environment.
_HTTP = {"http", "https"}
check_url_schemes(
    {
        "DATABASE_URL": (env_str("DATABASE_URL"), set(dj_database_url.ENGINE_SCHEMES)),
        "REDIS_URL": (env_str("REDIS_URL"), {"redis", "rediss", "unix"}),
        "CELERY_BROKER_URL": (
            env_str("CELERY_BROKER_URL"),
            {alias.lower() for alias in TRANSPORT_ALIASES},
        ),
        "EMAIL_URL": (env_str("EMAIL_URL"), set(dj_email_url.SCHEMES)),
        **{
            name: (env_str(name), _HTTP)
            for name in (
                "BETTER_AUTH_URL",
                "PUBLIC_BASE_URL",
                "FRONTEND_URL",
                "OPENAI_BASE_URL",
                "UNREAL_SPEECH_BASE_URL",
                "DODO_PAYMENTS_BASE_URL",
                "DODO_PAYMENTS_RETURN_URL",
                "AWS_S3_ENDPOINT_URL",
                "S3_CDN_URL",
            )
        },
    }
)

_DEV_SECRET_KEY = "podnex-development-secret-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", env_str("BETTER_AUTH_SECRET", _DEV_SECRET_KEY))
if IS_PRODUCTION and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured("Production needs SECRET_KEY (32+ characters), not the dev key")

DEBUG = env_bool("DEBUG", not IS_PRODUCTION)
# BETTER_AUTH_URL is the plan's name for the public base URL of this API.
PUBLIC_BASE_URL = env_str("BETTER_AUTH_URL", env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000"))
PUBLIC_BASE_URL = PUBLIC_BASE_URL.rstrip("/")
# Where e-mail links (verification, password reset) point. By default the studio page of
# this server, which handles them; a separate frontend sets its own URL.
FRONTEND_URL = env_str("FRONTEND_URL", PUBLIC_BASE_URL).rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"] if not IS_PRODUCTION else [])
# Browser origins trusted by default (CSRF, CORS): in production only the URLs someone set;
# the development defaults (localhost:3000, 127.0.0.1:8000) must never be let in there.
# Development also trusts the plan's separate frontend dev server (localhost:3000), which
# calls this API from another origin; production never does unless it is set.
_DEV_FRONTEND = "http://localhost:3000"
if env_str("FRONTEND_URL"):
    _FRONTEND_ORIGINS = [FRONTEND_URL]
elif IS_PRODUCTION:
    _FRONTEND_ORIGINS = []
else:
    _FRONTEND_ORIGINS = list(dict.fromkeys([FRONTEND_URL, _DEV_FRONTEND]))
_API_ORIGINS = (
    [PUBLIC_BASE_URL]
    if env_str("BETTER_AUTH_URL") or env_str("PUBLIC_BASE_URL") or not IS_PRODUCTION
    else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", _FRONTEND_ORIGINS + _API_ORIGINS)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "podnex.apps.PodnexConfig",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from here: the docs work offline
    "django_celery_beat",
    "corsheaders",
    "django_structlog",
    "allauth",
    "allauth.account",
    "allauth.headless",
    "allauth.usersessions",
    "axes",
    "accounts",
    "podcasts",
    "billing",
    "apikeys",
    "webhooks_app",
    "idempotency",
    "notifications",
    "sources",
    "ops.apps.OpsConfig",  # the top floor: imports the apps above, none imports it
]

MIDDLEWARE = [
    # Outermost: accepts or makes X-Request-ID, returns it, and times every request.
    "podnex.observability.RequestIdMiddleware",
    # Any 4xx under /api/ that Django rendered as HTML gets the error shape.
    "podnex.api.hostile.ApiErrorShapeMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "podnex.api.middleware.RateLimitHeadersMiddleware",
    # After authentication: turns a lockout found while logging in into a 429.
    "axes.middleware.AxesMiddleware",
]
# Before the session, CSRF and auth middleware: NUL bytes (which PostgreSQL refuses) and
# an oversized body are refused before anything looks at them.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "podnex.api.hostile.HostileInputMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("podnex.api.hostile.HostileInputMiddleware") + 1,
    "podnex.api.middleware.RequestBodyLimitMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("podnex.api.middleware.RequestBodyLimitMiddleware") + 1,
    "podnex.api.middleware.DatabaseUnavailableMiddleware",
)

ROOT_URLCONF = "podnex.urls"
WSGI_APPLICATION = "podnex.wsgi.application"
ASGI_APPLICATION = "podnex.asgi.application"

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

# --- Database -----------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        # 0: the web runs under ASGI, where each request's sync code gets a fresh thread, so
        # a persistent connection would outlive its thread unused (Django's advice: 0 under
        # ASGI). On PostgreSQL the pool below keeps connections instead.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
        conn_health_checks=True,
    )
}
# PostgreSQL: a connection pool per process (psycopg_pool, Django's "pool" option). Without
# it every request connected afresh (~4 ms and a backend fork on the server per request).
# A request takes a connection when it first queries and gives it back when it ends; while
# the database is away it fails at once (podnex.backends.postgresql), as without a pool.
# Persistent connections (DATABASE_CONN_MAX_AGE > 0) are the other way; Django refuses both.
DATABASE_POOL = env_bool("DATABASE_POOL", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_POOL:
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured("DATABASE_POOL and DATABASE_CONN_MAX_AGE > 0 exclude each other")
    DATABASES["default"]["ENGINE"] = "podnex.backends.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2, minimum=0),
        "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10, minimum=1),
        # Waiting longer for a free connection than this is an error (503), not a hang.
        "timeout": env_float("DATABASE_POOL_TIMEOUT", 10.0),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default lives under var/; a fresh clone has no such folder yet.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Web, worker and beat share one file: wait for the writer instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Take the write lock when a transaction begins: a read-then-write transaction otherwise
    # fails at once ("database is locked") when another writer is active, instead of waiting.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The test database in a file, not in shared-cache memory: worker threads writing at
    # once then wait for each other (timeout above) instead of failing "table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Proxies ------------------------------------------------------------------------------

# The one setting that decides which proxies are trusted: addresses/CIDRs whose
# X-Forwarded-For and X-Forwarded-Proto count. The Procfile hands the same variable to
# uvicorn (--forwarded-allow-ips), which resolves the client address and scheme; the app
# (rate limits, /metrics allow-list, logs) then reads REMOTE_ADDR only. Default: none, so a
# client's own X-Forwarded-For is never believed (uvicorn alone would trust loopback).
FORWARDED_ALLOW_IPS = env_addresses("FORWARDED_ALLOW_IPS")
if env_str("RATE_LIMIT_TRUSTED_PROXIES"):
    raise ImproperlyConfigured("RATE_LIMIT_TRUSTED_PROXIES is gone: set FORWARDED_ALLOW_IPS")

# --- Cache, broker ------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # django-redis keeps one connection pool per process (Django's own RedisCache built one
    # per cache object, i.e. per ASGI request); django_redis.get_redis_connection() is the
    # one way the code reaches Redis (pub/sub, rate-limit pipelines, health).
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
else:
    # Without Redis the cache is a table of the database, so that every process of the stack
    # (two web processes under `make run`) shares one rate-limit count per client; a cache in
    # each process's memory counted each client once per process. `migrate` creates the
    # table (podnex/migrations); podnex.cache_db.DatabaseCache makes `incr` atomic.
    CACHES = {"default": {"BACKEND": "podnex.cache_db.DatabaseCache", "LOCATION": "podnex_cache"}}

CELERY_BROKER_DIR = VAR_DIR / "celery"
# Without Redis the broker is kombu's filesystem transport: no server, shared by processes.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1),
        # A broker that stops answering must fail a publish in seconds, not hang the request.
        "socket_connect_timeout": env_float("CELERY_BROKER_CONNECT_TIMEOUT", 3.0),
        "socket_timeout": env_float("CELERY_BROKER_SOCKET_TIMEOUT", 10.0),
    }
)
# Publishing gives up after ~1 s of retries; callers handle the failure (podcast creation
# keeps the podcast QUEUED for the sweeper).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.3,
    "interval_max": 0.5,
}
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT = "podnex.broker:Transport"  # atomic writes, see podnex/broker.py
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "podnex.beat:Scheduler"
# All periodic tasks are declared in one place, ops/schedules.py (the top floor: the tasks of
# every app); ops.apps hands them to Celery, and podnex.beat writes them to
# django-celery-beat's tables after `migrate` so that staff can edit them in the admin.
CELERY_TIMEZONE = "UTC"
# Celery's Django fixup closes every DB connection before and after each task unless this is
# set, so each task paid a new connection (~10 ms on Postgres) whatever CONN_MAX_AGE says.
# With it set, the fixup only closes the task thread's connections every this many tasks;
# podnex/celery.py recycles them per task the way Django does per request (CONN_MAX_AGE,
# health checks).
CELERY_DB_REUSE_MAX = 1000

# --- Auth (django-allauth, headless) ------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked account or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_choice(
    "ACCOUNT_EMAIL_VERIFICATION", "optional", {"none", "optional", "mandatory"}
)
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
# Verifying from the session that signed up finishes that sign-up (allauth checks the session).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Checks every sign-up runs, headless included (the password against the submitted e-mail).
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupChecks"
HEADLESS_ONLY = True
HEADLESS_CLIENTS = ("browser", "app")
HEADLESS_FRONTEND_URLS = {
    "account_confirm_email": f"{FRONTEND_URL}/account/verify-email/{{key}}",
    "account_reset_password_from_key": f"{FRONTEND_URL}/account/password/reset/key/{{key}}",
    "account_signup": f"{FRONTEND_URL}/account/signup",
}
HEADLESS_SERVE_SPECIFICATION = True
# allauth's spec page with Redoc from drf-spectacular-sidecar's static files, not a CDN.
HEADLESS_SPECIFICATION_TEMPLATE_NAME = "headless/spec/redoc_local.html"

# The demo account `make run` creates (accounts' demo_user command) and the studio page shows,
# in development only.
DEMO_USER_EMAIL = "demo@podnex.local"
DEMO_USER_PASSWORD = "podnex-demo-1234"

# Login brute force (django-axes): every way to log in (auth API, admin, password-reset key)
# counts failures per account and per IP address; either reaching the limit locks for the
# cool-off. Counters live in the database (axes' AccessAttempt), shared by every process.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USE_ATTEMPT_EXPIRATION = True  # each failure ages out after the cool-off on its own
# A success does not wipe the address's count: an attacker could log into an account of
# their own between guesses at others.
AXES_RESET_ON_SUCCESS = False
AXES_USERNAME_CALLABLE = "accounts.lockout.client_username"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # no row per successful login
AXES_VERBOSE = False

# --- E-mail -------------------------------------------------------------------------------

# Development prints every mail (verification links, password resets) to the console of
# `make run`. Production must say where mail goes: without it sign-up mails would vanish.
EMAIL_URL = env_str("EMAIL_URL", "" if IS_PRODUCTION else "console://")
if not EMAIL_URL:
    raise ImproperlyConfigured(
        "Production needs EMAIL_URL, e.g. smtp://user:pass@smtp.example.com:587/?tls=True"
    )
vars().update(dj_email_url.parse(EMAIL_URL))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "PodNex <no-reply@podnex.local>")
# A mail server that stops answering fails the send (and the task retries) instead of
# holding a worker; EMAIL_URL's ?timeout= wins.
EMAIL_TIMEOUT = vars().get("EMAIL_TIMEOUT") or env_int("EMAIL_TIMEOUT", 15, minimum=1)
# Notification mails (notifications app): retries of a mail server's transient refusals.
NOTIFICATION_MAX_RETRIES = env_int("NOTIFICATION_MAX_RETRIES", 5, minimum=0)
NOTIFICATION_RETRY_BACKOFF = env_int("NOTIFICATION_RETRY_BACKOFF", 30, minimum=0)  # seconds
# A mail not yet tried whose message did not reach the broker, or reached it this long ago
# without a worker taking it, is sent again by the sweeper (notifications.requeue_stale).
NOTIFICATION_QUEUE_STALE_SECONDS = env_int("NOTIFICATION_QUEUE_STALE_SECONDS", 600, minimum=1)

# --- API (Django REST Framework, drf-spectacular) -----------------------------------------

# Largest request body the API reads; larger ones get 413 before parsing. A note of
# MAX_NOTE_CHARS characters, JSON-escaped, fits with room to spare.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1_048_576, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# Upload routes (multipart) accept bodies up to this size instead; the route checks its own
# smaller limit per file.
API_UPLOAD_MAX_BYTES = env_int("API_UPLOAD_MAX_BYTES", 21 * 1024 * 1024, minimum=1024)
API_UPLOAD_PATHS = r"^/api/v1/(feed/image|feed/clips/[^/]+|podcasts/[^/]+/artwork|sources)/?$"
# How long an Idempotency-Key's first answer is replayed (idempotency app).
IDEMPOTENCY_KEY_TTL = env_int("IDEMPOTENCY_KEY_TTL", 24 * 3600, minimum=60)  # seconds

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so a presented X-API-Key is never ignored in favour of another credential.
        "apikeys.authentication.ApiKeyAuthentication",
        "podnex.api.authentication.SessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # ApiKeyScopePermission: API keys only reach views that declare `required_scopes`.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "apikeys.permissions.ApiKeyScopePermission",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "podnex.api.throttling.UserRateThrottle",
        "apikeys.throttling.ApiKeyRateThrottle",
        "podnex.api.throttling.BurstRateThrottle",
    ],
    # The client address is REMOTE_ADDR as uvicorn resolved it from trusted proxies
    # (FORWARDED_ALLOW_IPS): X-Forwarded-For is never read a second time here.
    "NUM_PROXIES": 0,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["podnex.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "podnex.api.handlers.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apikeys.schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # ?format= belongs to the transcript route (srt, vtt, txt), not to DRF negotiation.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PodNex API",
    "DESCRIPTION": "Turn notes into a two-voice podcast episode.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # hostVoice and guestVoice share one enum, computed from the configured providers.
    "ENUM_NAME_OVERRIDES": {
        "VoiceEnum": "podcasts.serializers.voice_choices",
        "SourceTypeEnum": "sources.serializers.TYPES",
        "SourceCreateTypeEnum": "sources.serializers.CREATE_TYPES",
        "SourceUrlTypeEnum": ["url"],
        "SourceTextTypeEnum": ["text"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "podnex.api.schema.document_plain_views",
    ],
}

# --- Podcasts -----------------------------------------------------------------------------

MAX_NOTE_CHARS = env_int("MAX_NOTE_CHARS", 100_000, minimum=1)
MAX_TITLE_CHARS = 200
ESTIMATED_TIME_SHORT = env_int("ESTIMATED_TIME_SHORT", 60, minimum=1)  # seconds
ESTIMATED_TIME_LONG = env_int("ESTIMATED_TIME_LONG", 150, minimum=1)
DOWNLOAD_URL_TTL = env_int("DOWNLOAD_URL_TTL", 3600, minimum=1)  # seconds
PODCAST_TASK_MAX_RETRIES = env_int("PODCAST_TASK_MAX_RETRIES", 3, minimum=0)
# A job still QUEUED after this long is sent again by the beat sweeper (its message was
# lost, e.g. the broker was down at creation). Longer than the queue's normal wait.
PODCAST_QUEUE_STALE_SECONDS = env_int("PODCAST_QUEUE_STALE_SECONDS", 900, minimum=10)
# A job PROCESSING without progress (the podcast's updatedAt, written at every step) this
# long lost its worker beyond the broker's redelivery: the sweeper re-runs it once, then
# fails it. Longer than any step's silence (a script call with its retries).
PODCAST_PROCESSING_STALE_SECONDS = env_int("PODCAST_PROCESSING_STALE_SECONDS", 1800, minimum=60)
PODCAST_TASK_RETRY_BACKOFF = env_int("PODCAST_TASK_RETRY_BACKOFF", 10, minimum=0)  # seconds
AUDIO_ARTIST = env_str("AUDIO_ARTIST", "PodNex")

# The private feed (podcasts.feed). Its secret URLs are HMACs under FEED_TOKEN_SECRET
# (default SECRET_KEY): changing it changes every feed's URL.
FEED_TOKEN_SECRET = env_str("FEED_TOKEN_SECRET")
FEED_IMAGE_MAX_BYTES = env_int("FEED_IMAGE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
FEED_CLIP_MAX_BYTES = env_int("FEED_CLIP_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
FEED_CLIP_MAX_SECONDS = env_float("FEED_CLIP_MAX_SECONDS", 60.0)  # an intro or an outro
FEED_BED_MAX_SECONDS = env_float("FEED_BED_MAX_SECONDS", 600.0)  # the bed loops if shorter

# Providers: the offline ones unless a key switches the real one on.
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL") or None  # any OpenAI-compatible server
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4o-mini")  # writes the scripts
OPENAI_TIMEOUT = env_float("OPENAI_TIMEOUT", 120.0)  # seconds per request
OPENAI_MAX_RETRIES = env_int("OPENAI_MAX_RETRIES", 3, minimum=0)  # SDK retries, with backoff
OPENAI_TTS_ENABLED = env_bool("OPENAI_TTS_ENABLED", bool(OPENAI_API_KEY))
OPENAI_TTS_MODEL = env_str("OPENAI_TTS_MODEL", "gpt-4o-mini-tts")
OPENAI_TTS_HOST_VOICE = env_str("OPENAI_TTS_HOST_VOICE", "coral")
OPENAI_TTS_GUEST_VOICE = env_str("OPENAI_TTS_GUEST_VOICE", "ash")
# Delivery instructions, sent to models that take them (not tts-1 / tts-1-hd).
OPENAI_TTS_INSTRUCTIONS = env_str(
    "OPENAI_TTS_INSTRUCTIONS", "Speak naturally, as a relaxed podcast conversation."
)
UNREAL_SPEECH_API_KEY = env_str("UNREAL_SPEECH_API_KEY")
UNREAL_SPEECH_BASE_URL = env_str("UNREAL_SPEECH_BASE_URL", "https://api.v8.unrealspeech.com")
UNREAL_SPEECH_TIMEOUT = env_float("UNREAL_SPEECH_TIMEOUT", 60.0)  # seconds per request
UNREAL_SPEECH_MAX_RETRIES = env_int("UNREAL_SPEECH_MAX_RETRIES", 4, minimum=0)
UNREAL_SPEECH_HOST_VOICE = env_str("UNREAL_SPEECH_HOST_VOICE", "Sierra")
UNREAL_SPEECH_GUEST_VOICE = env_str("UNREAL_SPEECH_GUEST_VOICE", "Noah")
UNREAL_SPEECH_BITRATE = env_choice(
    "UNREAL_SPEECH_BITRATE",
    "192k",
    {"16k", "32k", "48k", "64k", "128k", "192k", "256k", "320k"},
)
UNREAL_SPEECH_SPEED = env_float("UNREAL_SPEECH_SPEED", 0.0)  # -1.0 .. 1.0
UNREAL_SPEECH_PITCH = env_float("UNREAL_SPEECH_PITCH", 1.0)  # 0.5 .. 1.5
if not -1.0 <= UNREAL_SPEECH_SPEED <= 1.0 or not 0.5 <= UNREAL_SPEECH_PITCH <= 1.5:
    raise ImproperlyConfigured("UNREAL_SPEECH_SPEED must be in -1..1 and _PITCH in 0.5..1.5")
SCRIPT_WRITER = env_choice(
    "SCRIPT_WRITER", "openai" if OPENAI_API_KEY else "offline", {"offline", "openai"}
)
TTS_PROVIDER = env_choice(
    "TTS_PROVIDER",
    "unreal" if UNREAL_SPEECH_API_KEY else "espeak",
    {"espeak", "flite", "unreal", "openai"},
)
# CMU Flite, where the system has it (apt install flite): a name on PATH or a full path.
FLITE_BINARY = env_str("FLITE_BINARY", "flite")
# Lines voiced at once per job. eSpeak runs one line at a time under a lock, so more
# threads would only make a cancelled job voice lines nobody hears.
TTS_CONCURRENCY = env_int("TTS_CONCURRENCY", 8, minimum=1)
TTS_CONCURRENCY_UNREAL = env_int("TTS_CONCURRENCY_UNREAL", TTS_CONCURRENCY, minimum=1)
TTS_CONCURRENCY_OPENAI = env_int("TTS_CONCURRENCY_OPENAI", TTS_CONCURRENCY, minimum=1)
TTS_CONCURRENCY_ESPEAK = env_int("TTS_CONCURRENCY_ESPEAK", 1, minimum=1)
# Flite runs one process per line; more than the cores would only queue.
TTS_CONCURRENCY_FLITE = env_int("TTS_CONCURRENCY_FLITE", 2, minimum=1)
# Backoff of our own HTTP clients (Unreal): base * 2**attempt, capped, with jitter.
TTS_RETRY_BACKOFF = env_float("TTS_RETRY_BACKOFF", 1.0)  # seconds
TTS_RETRY_BACKOFF_MAX = env_float("TTS_RETRY_BACKOFF_MAX", 30.0)
# Voiced lines are kept under tts-cache/ (by provider, voice, settings and text) so a
# retried job pays once and a re-render voices only the lines that changed.
TTS_LINE_CACHE = env_bool("TTS_LINE_CACHE", True)
# Longest script an owner may save (characters of spoken text, all lines together).
SCRIPT_MAX_CHARS = env_int("SCRIPT_MAX_CHARS", 30_000, minimum=100)
# Script length: words = minutes x rate. short aims at 3-5 minutes, long at 8-10.
SPEAKING_RATE_WPM = env_int("SPEAKING_RATE_WPM", 150, minimum=60)
SCRIPT_MAX_CALLS = env_int("SCRIPT_MAX_CALLS", 4, minimum=1)  # per script, incl. fix-ups
SCRIPT_NOTES_BUDGET_CHARS = env_int("SCRIPT_NOTES_BUDGET_CHARS", 24_000, minimum=1000)

# --- Billing (plans, quota, Dodo Payments) ------------------------------------------------

# Minutes a job reserves against the plan while it runs (the plan: short 3-5, long 8-10 min);
# on completion the real audio minutes are charged instead.
ESTIMATED_MINUTES_SHORT = env_int("ESTIMATED_MINUTES_SHORT", 5, minimum=0)
ESTIMATED_MINUTES_LONG = env_int("ESTIMATED_MINUTES_LONG", 10, minimum=0)

DODO_PAYMENTS_API_KEY = env_str("DODO_PAYMENTS_API_KEY")
DODO_PAYMENTS_WEBHOOK_KEY = env_str("DODO_PAYMENTS_WEBHOOK_KEY")
DODO_PAYMENTS_ENVIRONMENT = env_choice(
    "DODO_PAYMENTS_ENVIRONMENT", "test_mode", {"test_mode", "live_mode"}
)
# Overrides the host picked by DODO_PAYMENTS_ENVIRONMENT (same name the SDK reads itself).
DODO_PAYMENTS_BASE_URL = env_str("DODO_PAYMENTS_BASE_URL")
DODO_PAYMENTS_RETURN_URL = env_str("DODO_PAYMENTS_RETURN_URL", f"{FRONTEND_URL}/billing/success")
DODO_PAYMENTS_TIMEOUT = env_int("DODO_PAYMENTS_TIMEOUT", 20, minimum=1)  # seconds
DODO_PRODUCT_ID_STARTER = env_str("DODO_PRODUCT_ID_STARTER")
DODO_PRODUCT_ID_PRO = env_str("DODO_PRODUCT_ID_PRO")
DODO_PRODUCT_ID_BUSINESS = env_str("DODO_PRODUCT_ID_BUSINESS")
# How Dodo bills a plan change of a running subscription.
DODO_PRORATION_BILLING_MODE = env_choice(
    "DODO_PRORATION_BILLING_MODE",
    "prorated_immediately",
    {
        "prorated_immediately",
        "full_immediately",
        "difference_immediately",
        "do_not_bill",
        "prorated_immediately_keep_cycle",
    },
)
if IS_PRODUCTION and DODO_PAYMENTS_API_KEY and not DODO_PAYMENTS_WEBHOOK_KEY:
    raise ImproperlyConfigured("DODO_PAYMENTS_API_KEY needs DODO_PAYMENTS_WEBHOOK_KEY as well")

# --- Outbound webhooks --------------------------------------------------------------------

# Off in production: a user's URL (webhooks, sources) must not reach loopback, private or
# link-local addresses. WEBHOOK_ALLOW_PRIVATE_URLS is the older name of the same switch.
OUTBOUND_ALLOW_PRIVATE_URLS = env_bool(
    "OUTBOUND_ALLOW_PRIVATE_URLS", env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", False)
)
WEBHOOK_ALLOW_PRIVATE_URLS = OUTBOUND_ALLOW_PRIVATE_URLS
WEBHOOK_TIMEOUT = env_float("WEBHOOK_TIMEOUT", 10.0)  # seconds, per attempt
if not 0 < WEBHOOK_TIMEOUT <= 60:
    raise ImproperlyConfigured("WEBHOOK_TIMEOUT must be between 0 and 60 seconds")
# Seconds to wait before each retry after the first attempt (7 attempts in all by default).
WEBHOOK_RETRY_SCHEDULE = [
    env_float_item("WEBHOOK_RETRY_SCHEDULE", item)
    for item in env_list("WEBHOOK_RETRY_SCHEDULE", ["5", "300", "1800", "7200", "18000", "36000"])
]
# An endpoint failing without a single success for this long is disabled.
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", 5 * 24 * 3600, minimum=60)  # seconds
WEBHOOK_MAX_ENDPOINTS = env_int("WEBHOOK_MAX_ENDPOINTS", 100, minimum=1)  # per user
# Queue of the delivery tasks, so that a slow endpoint never holds a generation worker.
WEBHOOK_QUEUE = env_str("WEBHOOK_QUEUE", "webhooks")
# After rotation the previous secret still signs (a second signature) for this long.
WEBHOOK_SECRET_GRACE = env_int("WEBHOOK_SECRET_GRACE", 24 * 3600, minimum=0)  # seconds

# --- Sources (URLs and uploads turned into speakable text) ---------------------------------

# Largest upload or download; an upload over it gets 413 before it is stored, a download
# is cut off while it streams.
SOURCE_MAX_BYTES = env_int("SOURCE_MAX_BYTES", 20_000_000, minimum=1024)
SOURCE_FETCH_TIMEOUT = env_float("SOURCE_FETCH_TIMEOUT", 30.0)  # seconds for a whole download
if not 0 < SOURCE_FETCH_TIMEOUT <= 600:
    raise ImproperlyConfigured("SOURCE_FETCH_TIMEOUT must be between 0 and 600 seconds")
# What a DOCX or EPUB may expand to when unzipped (a zip bomb expands far beyond).
SOURCE_MAX_UNZIPPED_BYTES = env_int("SOURCE_MAX_UNZIPPED_BYTES", 200_000_000, minimum=1024)
# Clean text kept per source; longer documents are cut at a paragraph boundary.
SOURCE_MAX_CHARS = env_int("SOURCE_MAX_CHARS", 1_000_000, minimum=1000)
# Less readable text than this (after cleaning) fails the source: an empty, paywalled or
# script-only page, or a scan without a text layer.
SOURCE_MIN_CHARS = env_int("SOURCE_MIN_CHARS", 200, minimum=1)
SOURCE_MAX_PER_PODCAST = env_int("SOURCE_MAX_PER_PODCAST", 10, minimum=1)
# Characters of source text one podcast hands its script writer, shared fairly between its
# sources; the writer then summarises in parts what exceeds SCRIPT_NOTES_BUDGET_CHARS.
SOURCE_NOTES_MAX_CHARS = env_int("SOURCE_NOTES_MAX_CHARS", 200_000, minimum=1000)
# A source still pending this long (its worker died) is failed by the cleanup.
SOURCE_PENDING_TIMEOUT = env_int("SOURCE_PENDING_TIMEOUT", 1800, minimum=60)  # seconds
# The source upload route reads bodies up to the upload cap plus multipart overhead.
API_UPLOAD_MAX_BYTES = max(API_UPLOAD_MAX_BYTES, SOURCE_MAX_BYTES + 64 * 1024)

# --- Storage ------------------------------------------------------------------------------

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    # allow_overwrite: a retried job writes its audio under the same key again.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"allow_overwrite": True},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# S3 or any S3-compatible store (Cloudflare R2, MinIO) when S3_BUCKET_NAME is set.
S3_BUCKET_NAME = env_str("S3_BUCKET_NAME")
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY")
AWS_REGION = env_str("AWS_REGION", "us-east-1")
# R2: https://<account id>.r2.cloudflarestorage.com; MinIO: its URL. Unset for AWS itself.
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
# Public CDN in front of the bucket. When set, download URLs are plain CDN URLs (the CDN
# is expected to be public or to enforce its own access rules), not presigned S3 URLs.
S3_CDN_URL = env_str("S3_CDN_URL").rstrip("/")
if S3_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET_NAME,
            "access_key": AWS_ACCESS_KEY_ID or None,
            "secret_key": AWS_SECRET_ACCESS_KEY or None,
            "region_name": AWS_REGION,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "querystring_auth": True,
            "querystring_expire": DOWNLOAD_URL_TTL,
            "file_overwrite": True,
            "default_acl": None,  # private objects; reads go through presigned URLs
            "signature_version": "s3v4",
            "addressing_style": env_choice(
                "AWS_S3_ADDRESSING_STYLE", "auto", {"auto", "path", "virtual"}
            ),
            "object_parameters": {"CacheControl": "private, max-age=86400"},
        },
    }

# --- Rate limits (the plan's names) --------------------------------------------------------

# Counters live in the cache (Redis when REDIS_URL is set), so limits hold across processes.
RATE_LIMIT_WINDOW_MS = env_int("RATE_LIMIT_WINDOW_MS", 900_000, minimum=1000)  # per user/IP
RATE_LIMIT_MAX_REQUESTS = env_int("RATE_LIMIT_MAX_REQUESTS", 100, minimum=1)
RATE_LIMIT_CACHE = "default"
RATE_LIMIT_KEY_PREFIX = "rl"
# Tighter limits on expensive calls: scope -> (requests, window in seconds) per user.
RATE_LIMIT_BURSTS = {
    "podcast_create": (
        env_int("PODCAST_CREATE_BURST_MAX", 10, minimum=1),
        env_int("PODCAST_CREATE_BURST_WINDOW_SECONDS", 60, minimum=1),
    ),
    # Each URL source is a fetch from our servers: bounded per user, like podcasts.
    "source_create": (
        env_int("SOURCE_CREATE_BURST_MAX", 30, minimum=1),
        env_int("SOURCE_CREATE_BURST_WINDOW_SECONDS", 60, minimum=1),
    ),
}

# --- API keys -----------------------------------------------------------------------------

# Keys the HMAC-SHA256 digests of API keys. Defaults to SECRET_KEY: set it on its own before
# rotating SECRET_KEY, or every API key stops working.
API_KEY_HASH_SECRET = env_str("API_KEY_HASH_SECRET", SECRET_KEY)
# usageCount/lastUsedAt: counted in the cache and written to the row at most once per this
# many seconds per key; 0 writes the row on every request.
API_KEY_USAGE_FLUSH_SECONDS = env_int("API_KEY_USAGE_FLUSH_SECONDS", 60, minimum=0)
API_KEY_MAX_PER_USER = env_int("API_KEY_MAX_PER_USER", 20, minimum=1)

# --- Misc ---------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

SESSION_COOKIE_SECURE = IS_PRODUCTION
CSRF_COOKIE_SECURE = IS_PRODUCTION
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", IS_PRODUCTION)
# No SECURE_PROXY_SSL_HEADER: uvicorn takes the scheme from X-Forwarded-Proto of trusted
# proxies only (FORWARDED_ALLOW_IPS); Django would take it from anyone.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = IS_PRODUCTION
SECURE_HSTS_PRELOAD = IS_PRODUCTION
# Load balancers probe health and scrape metrics over plain HTTP, without X-Forwarded-Proto.
SECURE_REDIRECT_EXEMPT = [r"^api/health(/|$)", r"^metrics$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
# The browser auth API answers a CSRF refusal in the error shape (the admin keeps the page).
CSRF_FAILURE_VIEW = "podnex.api.hostile.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- CORS (django-cors-headers): the frontend, plus any extra origins listed ---------------

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", _FRONTEND_ORIGINS)
CORS_ALLOW_CREDENTIALS = True
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (
    *("accept", "authorization", "content-type", "user-agent", "x-csrftoken"),
    *("x-requested-with", "x-session-token", "x-api-key", "x-request-id", "last-event-id"),
)
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]

# --- Logs (structlog + django-structlog): JSON lines in production, readable in development

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
LOG_FORMAT = env_choice("LOG_FORMAT", "json" if IS_PRODUCTION else "console", {"json", "console"})
DJANGO_STRUCTLOG_CELERY_ENABLED = True  # request_id travels in the task headers
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True  # RequestIdMiddleware vets it first
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False  # RequestIdMiddleware binds REMOTE_ADDR

from podnex.observability import logging_config  # noqa: E402

LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)

# --- Metrics (Prometheus at /metrics) ------------------------------------------------------

# Scrapers present `Authorization: Bearer <METRICS_TOKEN>` or come from METRICS_ALLOWED_IPS
# (addresses or CIDR networks). With neither set, /metrics answers 403 to everyone
# except in DEBUG where loopback may scrape.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [])

# --- Health checks ------------------------------------------------------------------------

HEALTH_CHECK_TIMEOUT = env_float("HEALTH_CHECK_TIMEOUT", 3.0)  # seconds per component

# --- Live progress (Server-Sent Events) -----------------------------------------------------

SSE_HEARTBEAT_SECONDS = env_float("SSE_HEARTBEAT_SECONDS", 15.0)
SSE_POLL_SECONDS = env_float("SSE_POLL_SECONDS", 1.0)  # DB polling when Redis is absent
# With Redis, a stream still reads the row after this long without a message (missed events).
SSE_FALLBACK_POLL_SECONDS = env_float("SSE_FALLBACK_POLL_SECONDS", 5.0)
SSE_MAX_SECONDS = env_int("SSE_MAX_SECONDS", 1800, minimum=1)  # client reconnects after

# --- Cleanup ------------------------------------------------------------------------------

CLEANUP_JOB_DAYS = env_int("CLEANUP_JOB_DAYS", 7, minimum=1)
CLEANUP_DELETED_PODCAST_DAYS = env_int("CLEANUP_DELETED_PODCAST_DAYS", 30, minimum=1)

# --- Errors (Sentry) ----------------------------------------------------------------------

SENTRY_DSN = env_str("SENTRY_DSN")
SENTRY_TRACES_SAMPLE_RATE = env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0)
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    from podnex import redaction

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=ENVIRONMENT,
        integrations=[DjangoIntegration(), CeleryIntegration(monitor_beat_tasks=False)],
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
        send_default_pii=False,
        before_send=redaction.sentry_before_send,
    )

# Read so tests know whether a missing server is a skip (laptop) or a failure (CI).
CI = env_bool("CI", False)
