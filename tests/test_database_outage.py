"""
Issue 10, item 6 (second half) — the PostgreSQL connection lost, as when the server restarts or an
administrator terminates a backend.

- Between two requests: the portal keeps connections open (CONN_MAX_AGE=60); with CONN_HEALTH_CHECKS a
  request that finds its persistent connection dead reconnects instead of answering 500.
- In the middle of a settlement: the transaction is rolled back (nothing half-written), the gateway is
  not told "success", and its retry settles the payment once.

The backend is killed with pg_terminate_backend from a second connection, only this test database's
own connection. A full server restart is a drill: scripts/fault_drills.py.
"""

import io
import sys
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from contributions.models import Bill, BillStatus, PaidRecord, PaymentStatus
from payers.models import User
from tests.contributions.conftest import daily_notices, demo_person, signed

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend"),
]


def terminate(pid):
    """Kill a backend of this test database from a second connection, as a server restart would."""
    other = connection.get_new_connection(connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(%s) FROM pg_stat_activity WHERE pid = %s AND datname = %s",
                [pid, pid, connection.settings_dict["NAME"]],
            )
            assert cursor.fetchone() == (True,)
    finally:
        other.close()


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


class Server:
    """The portal's WSGI application called as gunicorn calls it, in this thread: a request starts and ends
    with Django's connection housekeeping (the test client skips it), so a connection persists between
    requests exactly as in a gunicorn worker."""

    def __init__(self, cookies):
        self.handler = WSGIHandler()
        self.cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())

    def get(self, path):
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "testserver",
            "HTTP_COOKIE": self.cookie,
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        status = []
        response = self.handler(environ, lambda s, headers, exc_info=None: status.append(s))
        try:
            body = b"".join(response).decode()
        finally:
            response.close()  # request_finished: Django's end-of-request connection housekeeping
        return int(status[0].split()[0]), body


@pytest.fixture
def seeded():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.fixture
def citizen(seeded):
    """张灵活's logged-in session, as a browser holds it."""
    client = Client()
    client.force_login(User.objects.get(person=demo_person("flexible")))
    return Server(client.cookies)


@contextmanager
def health_checks(enabled):
    previous = connection.settings_dict["CONN_HEALTH_CHECKS"]
    connection.settings_dict["CONN_HEALTH_CHECKS"] = enabled
    connection.close()  # read when connecting
    try:
        yield
    finally:
        connection.settings_dict["CONN_HEALTH_CHECKS"] = previous
        connection.close()


def test_persistent_connections_are_health_checked():
    assert connection.settings_dict["CONN_MAX_AGE"] == 60
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_connection_killed_between_two_requests_is_replaced_not_a_500(citizen):
    status, body = citizen.get(reverse("contributions:records"))
    assert status == 200
    first = backend_pid()  # the persistent connection the next request will find

    terminate(first)
    status, body = citizen.get(reverse("contributions:records"))

    assert status == 200 and "缴费记录" in body
    assert backend_pid() != first


def test_without_health_checks_the_same_kill_is_a_500(citizen):
    """The control: what CONN_HEALTH_CHECKS protects against (so the test above can fail)."""
    with health_checks(False):
        assert citizen.get(reverse("contributions:records"))[0] == 200
        terminate(backend_pid())
        status, _ = citizen.get(reverse("contributions:records"))

    assert status == 500


# Killed mid-transaction -----------------------------------------------------------------------------


@contextmanager
def killed_before(sql_start):
    """Terminate this connection's backend just before it runs the first statement starting `sql_start`."""
    killed = []

    def wrapper(execute, sql, params, many, context):
        if not killed and sql.lstrip().startswith(sql_start):
            killed.append(sql)
            terminate(backend_pid_of(context["connection"]))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield killed


def backend_pid_of(db):
    return db.connection.info.backend_pid


@pytest.fixture
def pending_payment(seeded, monkeypatch):
    from contributions import services
    from contributions.models import PaymentChannel

    monkeypatch.setattr("contributions.calendar.is_auto_debit_day", lambda day: False)
    person = demo_person("flexible")
    return services.start_payment(
        person=person, notice_numbers=daily_notices(person), method="card", channel=PaymentChannel.PORTAL
    )


def test_a_settlement_killed_midway_writes_nothing_and_the_gateways_retry_settles_once(pending_payment):
    payment = pending_payment
    bills = list(payment.lines.values_list("bill_id", flat=True))
    notification = signed(
        merchant_id=settings.PAYMENT_GATEWAY["MERCHANT_ID"],
        order_number=payment.order_number,
        trade_no="T" + payment.order_number,
        amount=f"{payment.amount:.2f}",
        status="SUCCESS",
        paid_at="",
    )
    gateway = Client(raise_request_exception=False)

    # After the bills' UPDATE, before the paid records' INSERT.
    with killed_before('INSERT INTO "contributions_paidrecord"') as killed:
        first = gateway.post(reverse("contributions:gateway_notify"), notification)

    assert killed, "the settlement reached its second write"
    assert first.status_code == 500 and first.content != b"success"  # the gateway will retry
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert set(Bill.objects.filter(pk__in=bills).values_list("status", flat=True)) == {BillStatus.UNPAID}
    assert not PaidRecord.objects.filter(bill_id__in=bills).exists()

    retried = gateway.post(reverse("contributions:gateway_notify"), notification)
    again = gateway.post(reverse("contributions:gateway_notify"), notification)

    assert retried.content == b"success" and again.content == b"success"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert PaidRecord.objects.filter(bill_id__in=bills).count() == len(bills)
    assert set(Bill.objects.filter(pk__in=bills).values_list("status", flat=True)) == {BillStatus.PAID}


def test_the_kill_really_breaks_the_connection(seeded):
    """The instrument works: after terminate(), this connection's next statement fails."""
    terminate(backend_pid())
    with pytest.raises(OperationalError):
        backend_pid()
    connection.close()
    assert backend_pid()
