import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def database_url_for(settings_dict):
    """A DATABASE_URL naming the database the tests use, for processes the tests start."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """
    A real Celery worker process on the configured broker, using the test database.

    Tests that rely on it must commit their data (`transaction=True`): the worker is another process.
    """
    from django.db import connection

    from portal.tasks import report_health

    env = {**os.environ, "DATABASE_URL": database_url_for(connection.settings_dict), "CONN_MAX_AGE": "0"}
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "portal",
        "worker",
        "--pool=solo",
        "--loglevel=warning",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--hostname",
        f"test-{uuid.uuid4().hex[:8]}@%h",
    ]
    worker = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        report_health.delay().get(timeout=60)  # returns once the worker is consuming
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.fixture
def admin_client(db, admin_user):
    """pytest-django's admin_client, but past the admin's second factor (tests.helpers.log_in_staff)."""
    from django.test import Client

    from tests.helpers import log_in_staff

    return log_in_staff(Client(), admin_user)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Tests create many accounts; the production hasher is slow by design.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db):
    """The demo data of `manage.py seed_demo` (reference data, demo citizens, staff, sandbox accounts)."""
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.fixture
def not_auto_debit_day(monkeypatch):
    """Today is not an auto-debit day, so the wizard is open whatever the calendar says."""
    monkeypatch.setattr("contributions.calendar.is_auto_debit_day", lambda day: False)
