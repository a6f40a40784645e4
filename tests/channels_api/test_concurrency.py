"""Idempotency under concurrent identical requests: one order, whatever the interleaving (PostgreSQL)."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from channels_api import services
from channels_api.models import ApiCall, ChannelOrder
from contributions.models import Payment, PaymentLine
from tests.channels_api.conftest import BASE_URL, django_transport, identity

THREADS = 8


def daily_notice():
    today = timezone.localdate()
    index = today.year * 12 + today.month - 2
    return f"3101{index // 12:04d}{index % 12 + 1:02d}000001"


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_requests_make_one_order(make_credential, not_auto_debit_day, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    credential, secret = make_credential()
    from channel_client import ChannelClient

    # Every request passes the "seen this key?" check before any of them creates the order.
    barrier = threading.Barrier(THREADS, timeout=30)
    original = services.replayed_order

    def replayed_then_wait(*args, **kwargs):
        found = original(*args, **kwargs)
        barrier.wait()
        return found

    monkeypatch.setattr(services, "replayed_order", replayed_then_wait)
    body = {**identity("flexible"), "notice_numbers": [daily_notice()], "pay_method": "alipay"}
    results = [None] * THREADS

    def order(index):
        try:
            api = ChannelClient(BASE_URL, credential.key_id, secret, transport=django_transport(Client()))
            response = api.post("orders", body, idempotency_key="same-key-for-all")
            results[index] = (response.status, response.json().get("order_number"), response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=order, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] * (THREADS - 1) + [201], results
    assert len({number for _, number, _ in results}) == 1
    assert Payment.objects.count() == 1 and ChannelOrder.objects.count() == 1
    assert PaymentLine.objects.count() == 2
    assert ApiCall.objects.filter(operation="orders.create").count() == THREADS
