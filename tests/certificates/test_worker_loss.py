"""A worker process killed in the middle of making a certificate loses nothing (acks_late + reject_on_worker_lost)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from certificates.models import Certificate, CertificateStatus
from certificates.tasks import make_certificate
from portal.celery import app
from tests.certificates.conftest import add_paid_records, certificate_for, records_person
from tests.conftest import database_url_for

ROOT = Path(__file__).resolve().parents[2]
QUEUE = f"worker-loss-{uuid.uuid4().hex[:6]}"

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.REDIS_URL, reason="watching a task in flight needs the Redis broker's remote control"
    ),
]


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # polling other processes, not waiting for time to pass
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def prefork_worker(tmp_path, settings):
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "CONN_MAX_AGE": "0",
        "MEDIA_ROOT": str(tmp_path),
    }
    settings.MEDIA_ROOT = tmp_path
    name = f"loss-{uuid.uuid4().hex[:6]}@%h"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "-Q",
            QUEUE,
            "--hostname",
            name,
            "--loglevel=warning",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )
    wait_for(lambda: app.control.ping(timeout=0.5), 60, "the worker to answer")
    yield worker
    worker.terminate()
    worker.wait(timeout=30)


def big_certificate():
    person = records_person()
    add_paid_records(person, 1200, prefix="L")  # a long certificate: several seconds of rendering
    return certificate_for(person)


def test_a_killed_worker_process_does_not_lose_the_certificate(prefork_worker):
    certificate = big_certificate()

    make_certificate.apply_async(args=[certificate.pk], queue=QUEUE)
    busy = wait_for(
        lambda: {k: v for k, v in (app.control.inspect(timeout=0.5).active() or {}).items() if v},
        60,
        "the task to start",
    )
    child = int(next(iter(busy.values()))[0]["worker_pid"])
    os.kill(child, signal.SIGKILL)

    ready = wait_for(
        lambda: Certificate.objects.get(pk=certificate.pk).status == CertificateStatus.READY,
        120,
        "the certificate to be made again by a new worker process",
    )

    assert ready
    certificate.refresh_from_db()
    assert certificate.file and Path(certificate.file.path).stat().st_size > 0
