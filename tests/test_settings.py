"""Settings come from the environment; each case runs in a fresh process with only that environment."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
CLEAN = {
    key: value
    for key, value in os.environ.items()
    if key
    not in {
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "DJANGO_ENV",
        "PORTAL_VAR_DIR",
        "FIELD_ENCRYPTION_KEY",
        "FIELD_BLIND_INDEX_KEY",
    }
}
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "shebao.example.cn",
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "FIELD_BLIND_INDEX_KEY": Fernet.generate_key().decode(),
}

SHOW = """
import json, django
django.setup()
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({"engine": db["ENGINE"], "name": str(db["NAME"]), "conn_max_age": db["CONN_MAX_AGE"],
                  "broker": s.CELERY_BROKER_URL, "secret": s.SECRET_KEY, "debug": s.DEBUG,
                  "hosts": s.ALLOWED_HOSTS}))
"""


def run(args, env, var_dir):
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**CLEAN, "DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_VAR_DIR": str(var_dir), **env},
    )


def effective(tmp_path, **env):
    done = run(["-c", SHOW], env, tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_locale_and_time_zone_are_shanghai():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert settings.AUTH_USER_MODEL == "payers.User"


def test_without_environment_the_portal_runs_embedded(tmp_path):
    config = effective(tmp_path)

    assert config["engine"] == "django.db.backends.sqlite3"
    assert config["name"] == str(tmp_path / "db.sqlite3")
    assert config["broker"] == "filesystem://"
    assert config["debug"] is True


def test_development_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = effective(tmp_path)["secret"]
    second = effective(tmp_path)["secret"]

    assert first == second
    assert len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_database_and_redis_urls_are_used_with_persistent_connections(tmp_path):
    config = effective(
        tmp_path,
        DATABASE_URL="postgres://portal:pw@db.internal:5432/shebao",
        REDIS_URL="redis://cache:6379/1",
    )

    assert config["engine"] == "django.db.backends.postgresql"
    assert config["name"] == "shebao"
    assert config["conn_max_age"] == 60
    assert config["broker"] == "redis://cache:6379/1"


def test_production_check_deploy_reports_no_warnings(tmp_path):
    done = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
    assert effective(tmp_path, **PRODUCTION)["debug"] is False


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_secret_or_hosts(tmp_path, missing):
    env = {key: value for key, value in PRODUCTION.items() if key != missing}

    done = run(["manage.py", "check"], env, tmp_path)

    assert done.returncode != 0
    assert f"{missing} must be set" in done.stderr


@pytest.mark.parametrize("missing", ["FIELD_ENCRYPTION_KEY", "FIELD_BLIND_INDEX_KEY"])
def test_production_refuses_to_start_without_field_encryption_keys(tmp_path, missing):
    env = {key: value for key, value in PRODUCTION.items() if key != missing}

    checked = run(["manage.py", "check"], env, tmp_path)
    migrated = run(["manage.py", "migrate", "--check"], env, tmp_path)

    for done in (checked, migrated):
        assert done.returncode != 0
        assert f"{missing} must be set" in done.stderr


def test_a_malformed_field_encryption_key_is_refused(tmp_path):
    env = {**PRODUCTION, "FIELD_ENCRYPTION_KEY": f"{PRODUCTION['FIELD_ENCRYPTION_KEY']},not-a-key"}

    done = run(["manage.py", "check"], env, tmp_path)

    assert done.returncode != 0
    assert "portal.E012" in done.stderr
