import pytest

from portal.tasks import report_health

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_consumes_the_broker_and_reaches_the_database(celery_worker):
    result = report_health.delay()

    assert result.get(timeout=30) == {"database": "ok", "broker": "ok"}
    assert celery_worker.poll() is None, "the worker process is still running"
