"""Every call audited: channel, operation, person masked, result."""

import pytest

from channels_api.models import ApiCall
from tests.channels_api.conftest import identity

pytestmark = pytest.mark.django_db


def test_one_row_per_call_with_the_person_masked(api):
    api.post("enrolments/query", identity("flexible"))
    api.post("enrolments/query", identity("unenrolled"))
    api.post("bills/query", {**identity("flexible"), "payer_type": "resident"})

    calls = list(ApiCall.objects.order_by("id"))
    assert [(c.operation, c.status_code, c.error_code) for c in calls] == [
        ("enrolments.query", 200, ""),
        ("enrolments.query", 422, "not_flexible_or_resident"),
        ("bills.query", 400, "invalid_request"),
    ]
    assert {c.channel for c in calls} == {"suishenban"}
    assert (calls[0].person_name, calls[0].person_id_number) == ("**活", "3****************7")
    assert calls[1].person_name == "**参"
    for call in calls:
        assert call.key_id == api.key_id and call.duration_ms >= 0 and call.client_ip == "127.0.0.1"


def test_no_full_id_number_or_name_is_ever_stored(api):
    order = api.post(
        "orders",
        {**identity("flexible"), "notice_numbers": ["310100000000000"], "pay_method": "alipay"},
        idempotency_key="k1",
    )
    assert order.status == 422

    for row in ApiCall.objects.values():
        text = " ".join(str(value) for value in row.values())
        for person in ("flexible", "unenrolled"):
            assert identity(person)["id_number"] not in text
            assert identity(person)["name"] not in text


def test_refused_calls_are_audited_with_the_reason_for_staff(api):
    api.transport("POST", api.url("enrolments/query"), {"X-Channel-Key": api.key_id}, b"{}")

    call = ApiCall.objects.get()
    assert (call.status_code, call.error_code, call.detail) == (
        401,
        "unauthorized",
        "missing_or_malformed_headers",
    )
    assert call.channel == ""  # unknown until the signature holds together


def test_order_calls_record_the_order_number(api):
    paid = api.post("orders/SB123/payment-result", {"status": "failed"})

    assert paid.status == 404
    call = ApiCall.objects.get()
    assert (call.operation, call.order_number, call.error_code) == (
        "orders.payment_result",
        "SB123",
        "order_not_found",
    )


def test_nul_characters_are_refused_and_still_audited(api):
    response = api.post("enrolments/query", {**identity("flexible"), "name": "张\x00灵活"})

    assert response.status == 400
    call = ApiCall.objects.get()
    assert "\x00" not in call.person_name and call.error_code == "invalid_request"
