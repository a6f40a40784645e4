"""
Issue 10, item 6 (first half) — Redis, the Celery broker, unreachable.

While it is down the portal still answers: a citizen who applies for a certificate gets the normal
downloads page with the request 制作中, and the row stays; the sandbox cashier charges the card and sends
the browser back. Enqueuing gives up after the configured few connection attempts (kombu's defaults
retry without end, and the result store 20 times a second apart). What could not be enqueued is marked,
and once Redis is back the beat's tasks send it: a real worker then makes the certificate.

"Down" is a port where nothing listens (redis://127.0.0.1:1/0): the server that other engineers and CI
share is never stopped.
"""

import time

import pytest
import redis.connection
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from certificates import services
from certificates.models import Certificate, CertificateStatus
from certificates.tasks import make_certificate, requeue_stuck_certificates
from contributions.models import PaymentStatus
from payers.models import User
from portal.celery import app
from tests.certificates.conftest import certificate_for, records_person
from unionpay_sandbox import tasks as sandbox_tasks
from unionpay_sandbox.models import SandboxOrder

UNREACHABLE = "redis://127.0.0.1:1/0"

pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL, reason="the fail-fast settings are those of the Redis broker (REDIS_URL)"
)


def point_celery_at(url):
    """Broker and result store at `url`: the app forgets its pools (kombu keeps one per URL)."""
    app.conf.broker_url = url
    app.conf.result_backend = url
    app._after_fork()  # forgets the connection and producer pools, as in a new process
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture
def redis_down(monkeypatch):
    """Redis unreachable for the test; yields the list of connection attempts made to it."""
    attempts = []
    connect = redis.connection.Connection._connect

    def counted(connection):
        if connection.port == 1:
            attempts.append(time.monotonic())
        return connect(connection)

    monkeypatch.setattr(redis.connection.Connection, "_connect", counted)
    previous = app.conf.broker_url, app.conf.result_backend
    point_celery_at(UNREACHABLE)
    yield attempts
    app.conf.broker_url, app.conf.result_backend = previous
    point_celery_at(previous[0])


def publish_attempts():
    """What the settings allow one `delay()`: a first attempt and the publish policy's retries."""
    return 1 + settings.CELERY_TASK_PUBLISH_RETRY_POLICY["max_retries"]


def test_enqueuing_gives_up_quickly_by_configuration():
    # Without these kombu retries the connection without end and `delay()` hangs the request.
    conf = app.conf
    assert conf.task_publish_retry_policy["max_retries"] == 2
    assert conf.task_publish_retry_policy["interval_max"] <= 0.5
    assert conf.broker_transport_options["max_retries"] == 2
    assert conf.broker_transport_options["socket_connect_timeout"] == 2
    assert conf.broker_transport_options["socket_timeout"] == 10
    assert conf.broker_connection_timeout == 2
    assert conf.result_backend_transport_options["retry_policy"]["max_retries"] == 2
    assert conf.redis_socket_connect_timeout == 2
    # The tasks a web request enqueues keep no result, so `delay()` does not wait for the result store.
    assert make_certificate.ignore_result and sandbox_tasks.notify_merchant.ignore_result


# Certificates ---------------------------------------------------------------------------------------


def query_as(client, person):
    """证明开具: the person's records of one year (one tax authority), ready to apply for."""
    client.force_login(User.objects.get(person=person))
    year = timezone.localdate().year - 2
    query = {"target": "self", "period_from": f"{year}-01", "period_to": f"{year}-12", "insurance": "all"}
    assert client.post(reverse("certificates:query"), query).status_code == 302


def apply_as(client, person):
    query_as(client, person)
    return client.post(reverse("certificates:apply"))


@pytest.mark.django_db
def test_applying_while_redis_is_down_shows_making_and_keeps_the_request(
    client, redis_down, django_capture_on_commit_callbacks, caplog
):
    query_as(client, records_person())

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("certificates:apply"))
    took = time.monotonic() - started
    print(f"\napply with Redis down: {took:.2f} s, {len(redis_down)} connection attempts")

    assert response.status_code == 302 and response["Location"] == reverse("certificates:downloads")
    assert len(redis_down) == publish_attempts()
    certificate = Certificate.objects.get()
    assert certificate.status == CertificateStatus.MAKING and certificate.enqueue_pending
    page = client.get(response["Location"]).content.decode()
    assert "制作中" in page
    assert f"certificate {certificate.pk}: could not reach the broker" in caplog.text


@pytest.mark.django_db
def test_the_requeue_command_while_redis_is_still_down_fails_nothing(
    redis_down, django_capture_on_commit_callbacks
):
    person = records_person()
    first, second = certificate_for(person), certificate_for(person)
    Certificate.objects.update(enqueue_pending=True)

    call_command("requeue_stuck_certificates", stdout=open("/dev/null", "w"))  # noqa: SIM115

    # One request tried, then the command stops: the broker is down, the next tick tries again.
    assert len(redis_down) == publish_attempts()
    assert set(Certificate.objects.values_list("pk", "enqueue_pending")) == {
        (first.pk, True),
        (second.pk, True),
    }


@pytest.mark.django_db
def test_a_request_never_enqueued_is_sent_on_the_next_tick_not_after_the_stuck_delay(monkeypatch):
    person = records_person()
    pending, _recent = certificate_for(person), certificate_for(person)
    Certificate.objects.filter(pk=pending.pk).update(enqueue_pending=True)
    sent = []
    monkeypatch.setattr("certificates.tasks.make_certificate.delay", sent.append)

    assert services.requeue_stuck() == 1

    assert sent == [pending.pk]  # the recent request, sent when it was made, is left to its worker
    assert not Certificate.objects.get(pk=pending.pk).enqueue_pending


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_once_redis_is_back_the_requests_made_meanwhile_are_made(client, celery_worker, redis_down):
    # The worker (a session fixture, set up first) is on the real Redis; this process cannot reach it.
    person = records_person()
    response = apply_as(client, person)  # committed: on_commit runs at once
    assert response.status_code == 302 and len(redis_down) == publish_attempts()
    certificate = Certificate.objects.get()
    assert certificate.enqueue_pending

    point_celery_at(settings.CELERY_BROKER_URL)  # Redis is back
    requeue_stuck_certificates.delay()  # the beat's next tick

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # polling the worker's work, not waiting for time to pass
        certificate.refresh_from_db()
        if certificate.status != CertificateStatus.MAKING:
            break
        time.sleep(0.3)
    assert certificate.status == CertificateStatus.READY
    assert not certificate.enqueue_pending
    assert client.get(reverse("certificates:download", args=[certificate.pk])).status_code == 200


# The sandbox gateway's notification -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_cashier_charges_and_the_payment_settles_while_redis_is_down(
    client, redis_down, django_capture_on_commit_callbacks, monkeypatch
):
    from tests.contributions.conftest import open_gateway_order, start
    from tests.security.conftest import demo_person

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    monkeypatch.setattr("contributions.calendar.is_auto_debit_day", lambda day: False)
    payment = start(demo_person("flexible"))
    cashier = open_gateway_order(payment)

    with django_capture_on_commit_callbacks(execute=True):
        back = client.post(cashier, {"action": "pay", "card_number": "6222021234567890128"})

    assert back.status_code == 302 and "result=paid" in back["Location"]
    assert len(redis_down) == publish_attempts()
    order = SandboxOrder.objects.get()
    assert order.status == SandboxOrder.Status.PAID and order.notify_pending
    # The browser's return: the portal asks the gateway and settles, notification or not.
    client.force_login(User.objects.get(person=payment.person))
    assert client.get(back["Location"]).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED

    # Redis back: the beat task hands the notification over and clears the mark.
    sent = []
    monkeypatch.setattr(sandbox_tasks.notify_merchant, "delay", sent.append)
    assert sandbox_tasks.resend_pending_notifications() == 1
    assert sent == [order.pk] and not SandboxOrder.objects.get().notify_pending
