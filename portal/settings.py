"""
Settings for shebao-portal, read from the environment in this one place.

Without any environment the portal runs embedded: SQLite and a filesystem Celery broker under var/,
and a development secret key generated once into var/. Set DATABASE_URL and REDIS_URL to use
PostgreSQL and Redis; set DJANGO_ENV=production for the hardened settings (`check --deploy` clean).
"""

import base64
import hashlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DJANGO_ENV = os.environ.get("DJANGO_ENV", "development")
PRODUCTION = DJANGO_ENV == "production"
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key():
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production.")
    # Development: one generated key kept under var/, so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"  # a Chinese page with the request's 错误编号
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production.")

INSTALLED_APPS = [
    # Django's admin with the portal's site as admin.site: staff need a TOTP code (portal/admin_site.py).
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "captcha",
    "axes",
    "portal",
    "payers",
    "contributions",
    "mandates",
    "certificates",
    "unionpay_sandbox",
    "bank_sandbox",
    "rest_framework",
    "drf_spectacular",
    "channels_api",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "audit",
]

MIDDLEWARE = [
    # First: the request's reference id (错误编号) on every log line, the error pages and X-Request-ID.
    "portal.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (django-csp; configured with the other security headers).
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the session passed a TOTP code (the admin requires it).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "payers.middleware.IdleTimeoutMiddleware",
    # 12 hours after login at most, however active (SESSION_COOKIE_AGE alone is renewed on every save).
    "portal.middleware.AbsoluteSessionLifetimeMiddleware",
    # Last, as django-axes requires: turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:
    # gunicorn serves the collected, compressed static files itself; runserver does it in development.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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

# Database: DATABASE_URL, or SQLite under var/. Persistent connections matter: on PostgreSQL they
# took the portal from ~165 to ~1,400 requests/s on the development machine.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, for the test database: a Celery worker process started by the tests must see it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "payers.User"
AUTHENTICATION_BACKENDS = [
    # First, as django-axes requires: refuses a locked-out account or address before the password check.
    "axes.backends.AxesStandaloneBackend",
    "payers.backends.PhoneIdNumberUsernameBackend",
]
LOGIN_URL = "payers:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "payers.validators.PasswordCompositionValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "payers.passwords.BreachedPasswordValidator"},
]
# Who knows breached or common passwords (payers/passwords.py): the bundled list of passwords Chinese users
# choose most (offline, the default) and, where the servers may reach it, the Have I Been Pwned range API
# ("payers.passwords.PwnedPasswordsChecker", k-anonymity, fails open after PWNED_PASSWORDS_TIMEOUT seconds).
PASSWORD_BREACH_CHECKERS = env_list(
    "PASSWORD_BREACH_CHECKERS", default=["payers.passwords.BundledListChecker"]
)
PWNED_PASSWORDS_TIMEOUT = float(os.environ.get("PWNED_PASSWORDS_TIMEOUT", "2"))

# Sessions: 15 minutes idle (payers.middleware.IdleTimeoutMiddleware), 12 hours at most.
SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(15 * 60)))
SESSION_COOKIE_AGE = 12 * 3600

# Failed logins (django-axes): 5 failures in 15 minutes lock that account and, separately, that address.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "payers.backends.axes_username"
AXES_LOCKOUT_CALLABLE = "payers.views.locked_out"
AXES_VERBOSE = False
# Behind reverse proxies the client address is in X-Forwarded-For (payers.backends.client_ip); without it
# every user would share the proxy's address and one attacker would lock everybody out.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "payers.backends.client_ip"

# Staff admin: a second factor, a TOTP code from an authenticator app (django-otp; enrolled with
# `manage.py staff_totp`). Keys are never shown again in the admin once a device exists.
OTP_TOTP_ISSUER = "上海市电子税务局社保费后台"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Login: the slider check (payers.slider) and, when the login is a phone number, an SMS code step.
SLIDER_CHECK_ENABLED = env_bool("SLIDER_CHECK_ENABLED", default=True)
LOGIN_SMS_STEP_FOR_PHONE = env_bool("LOGIN_SMS_STEP_FOR_PHONE", default=True)

# SMS gateway (payers.adapters.sms): the database outbox, echoed to the console in development.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "payers.adapters.sms.OutboxBackend")
SMS_ECHO = DEBUG

# Contributions: the days each month the bureau debits mandate accounts (moved to the next working day
# when one falls on a holiday); self-service payment is closed on those days (SPEC rules 5 and 9).
AUTO_DEBIT_DAYS = [int(day) for day in env_list("AUTO_DEBIT_DAYS", default=["10", "20"])]
TREASURY_WORKING_DAYS = 3

# Card payments (contributions.adapters.gateway). The default is the UnionPay sandbox shipped in
# unionpay_sandbox/, with a signing key derived from SECRET_KEY unless one is given.
PAYMENT_GATEWAY = {
    "BACKEND": os.environ.get(
        "PAYMENT_GATEWAY_BACKEND", "contributions.adapters.gateway.UnionPaySandboxGateway"
    ),
    "MERCHANT_ID": os.environ.get("PAYMENT_GATEWAY_MERCHANT_ID", "898310148160568"),
    "SIGNING_KEY": os.environ.get("PAYMENT_GATEWAY_SIGNING_KEY")
    or hashlib.sha256(f"unionpay-sandbox:{SECRET_KEY}".encode()).hexdigest(),
}
# Payment orders not paid within this time are closed, so their bills can be paid again.
PAYMENT_ORDER_TTL = timedelta(minutes=30)

# Bank for mandates and debits (mandates.adapters.bank). The default is the simulated banks in bank_sandbox/.
BANK = {"BACKEND": os.environ.get("BANK_BACKEND", "mandates.adapters.bank.SandboxBank")}

# Certificates: the public address printed in the PDF's verification QR code, and when a request left
# 制作中 is considered lost and re-enqueued.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
CERTIFICATE_STUCK_AFTER = timedelta(minutes=int(os.environ.get("CERTIFICATE_STUCK_MINUTES", "10")))

# Channel API (channels_api/): signed requests, no session or DRF authentication of its own.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {"TITLE": "上海市电子税务局 社保费第三方渠道接口", "VERSION": "1.0.0"}
# Fernet key(s) encrypting the channels' secrets, comma-separated; derived from SECRET_KEY when unset.
CHANNEL_SECRET_KEY = os.environ.get("CHANNEL_SECRET_KEY", "")


# Bank account numbers encrypted at rest (portal/fields.py): FIELD_ENCRYPTION_KEY holds one or more
# urlsafe-base64 32-byte keys, comma-separated, the first encrypts, all decrypt (rotate: new key first,
# then `manage.py reencrypt_fields`). FIELD_BLIND_INDEX_KEY keys the HMAC that look-ups by account use.
# Production has no default: the system check portal.E010 stops `check` and `migrate` without them.
# Development derives both from SECRET_KEY (itself generated once under var/).
def _derived_field_key(purpose):
    return base64.urlsafe_b64encode(hashlib.sha256(f"{purpose}:{SECRET_KEY}".encode()).digest()).decode()


FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEY", default=[] if PRODUCTION else [_derived_field_key("field-encryption")]
)
FIELD_BLIND_INDEX_KEY = os.environ.get("FIELD_BLIND_INDEX_KEY") or (
    "" if PRODUCTION else _derived_field_key("field-blind-index")
)

# Image captcha on registration (django-simple-captcha).
CAPTCHA_LENGTH = 4
CAPTCHA_IMAGE_SIZE = (120, 40)
CAPTCHA_FONT_SIZE = 28
CAPTCHA_TIMEOUT = 5

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
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

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery: Redis when REDIS_URL is set; otherwise kombu's filesystem transport under var/, which a
# real worker process consumes just the same, so `make run` needs no server.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_DIR = VAR_DIR / "celery" / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # An unacknowledged message goes back to the queue after this: longer than any task's countdown (the
    # gateway notification backs off to 15 minutes), or a delayed task would run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 2 * 3600,
        # Redis unreachable: a web request that enqueues a task gives up within about a second instead of
        # hanging (kombu's defaults retry the connection without end); the request is kept and sent again
        # later (certificates: requeue-stuck-certificates). tests/test_broker_outage.py.
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
        "socket_connect_timeout": 2,
        "socket_timeout": 10,  # a half-open connection (failover, NAT) fails a publish instead of blocking it
    }
    # The result store: 20 reconnection attempts a second apart by default, paid by `delay()` of any task
    # whose result is kept; the portal's tasks that web requests enqueue ignore their results anyway.
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
        "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR),
        "data_folder_out": str(CELERY_BROKER_DIR),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery' / 'results'}"
    for folder in ("broker", "control", "results"):
        (VAR_DIR / "celery" / folder).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Publishing: 1 + 2 attempts, 0.2 s apart, then `delay()` raises kombu's OperationalError to the caller.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A pool process replacing one that exited (a crash, max tasks per child) loads the PDF fonts before it
# reports ready (portal/celery.py): give it a minute, not billiard's 4 s, after which it is killed and
# replaced, over and over on a busy machine (tests/test_worker.py).
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 60
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "settle-treasury": {
        # 入库: paid records get their treasury date three working days after payment (SPEC rule 7).
        "task": "contributions.tasks.settle_treasury",
        "schedule": crontab(hour=1, minute=30),
    },
    "batch-debit": {
        # 批量扣款: on each deduction day (moved past holidays) debit mandate accounts (SPEC rule 9).
        "task": "mandates.tasks.run_batch_debit_today",
        "schedule": crontab(hour=6, minute=0),
    },
    "purge-channel-api": {
        # Expired nonces and rate-limit windows of the channel API.
        "task": "channels_api.tasks.purge_channel_api_state",
        "schedule": crontab(minute="*/10"),
    },
    "requeue-stuck-certificates": {
        # Requests the broker could not take when made (Redis down), and those lost on the way.
        "task": "certificates.tasks.requeue_stuck_certificates",
        "schedule": crontab(minute="*/5"),
    },
    "purge-audit": {
        # The staff audit trail is kept three years (audit.services.DEFAULT_RETENTION_DAYS), then dropped.
        "task": "audit.tasks.purge_old_audit_entries",
        "schedule": crontab(hour=3, minute=15),
    },
    "sandbox-resend-notifications": {
        # The UnionPay sandbox's notifications a broker outage kept from being sent.
        "task": "unionpay_sandbox.tasks.resend_pending_notifications",
        "schedule": crontab(minute="*/5"),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Every handler carries both filters of portal/logs.py: the request's reference id, and the last line of
# defence that escapes line breaks and masks ID, phone and card numbers (tests/security/test_logs.py).
# Django's records (django.request, django.security.*) and the Celery worker's (portal/celery.py) all
# come through the root's handler; Django's own default handlers are removed so none prints unfiltered.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "portal.logs.RequestIdFilter"},
        "safe": {"()": "portal.logs.SafeLogFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id", "safe"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint's "Step 1 … Step 7" lines, eight INFO records per PDF; its warnings still come through.
        "weasyprint.progress": {"level": "WARNING"},
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": ["console"], "propagate": False},
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker keeps LOGGING (portal/celery.py, setup_logging)

# Security headers on every response (tests/security/test_headers.py). The templates carry no inline
# script or event handler, so scripts come from our own static files only; inline styles stay allowed
# (the 500 page and a few attributes use them). The sandbox cashier is on our origin; a real gateway on
# another origin must be added to form-action (CSP_FORM_ACTION_EXTRA), or the browser blocks the
# redirect to it after the 支付方式 form is posted.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "script-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", *env_list("CSP_FORM_ACTION_EXTRA", default=[])],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Production hardening: behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
