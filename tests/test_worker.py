import os
import subprocess
import sys
import uuid

import pytest

from portal.tasks import report_health

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_consumes_the_broker_and_reaches_the_database(celery_worker):
    result = report_health.delay()

    assert result.get(timeout=30) == {"database": "ok", "broker": "ok"}
    assert celery_worker.poll() is None, "the worker process is still running"


def test_a_pool_process_slow_to_load_its_fonts_is_not_killed_before_it_starts():
    """
    A pool process replacing one that exited (here after each task, --max-tasks-per-child=1; also after a
    crash) must report ready within worker_proc_alive_timeout, 4 s by default, or billiard kills it and
    starts another, which loads its fonts and is killed again: the worker never takes another task.
    """
    from django.db import connection

    from tests.conftest import ROOT, database_url_for

    queue = f"slow-start-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "CONN_MAX_AGE": "0",
        "SLOW_START_SECONDS": "6",
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "tests.slow_start_worker", "worker"),
        *("--pool=prefork", "--concurrency=1", "--max-tasks-per-child=1", f"--queues={queue}"),
        "--loglevel=warning",
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        f"--hostname=slow-{uuid.uuid4().hex[:8]}@%h",
    ]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)  # noqa: S603
    try:
        for _ in range(2):  # the first pool process, then its replacement
            assert report_health.apply_async(queue=queue).get(timeout=45) == {
                "database": "ok",
                "broker": "ok",
            }
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
    assert "Timed out waiting for UP message" not in errors
