"""Card payment through the UnionPay sandbox, settlement, and the guarantees of contributions.services."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from contributions import services
from contributions.models import (
    Bill,
    BillStatus,
    PaidRecord,
    Payment,
    PaymentChannel,
    PaymentStatus,
)
from payers.models import User
from tests.contributions.conftest import (
    daily_notices,
    notification,
    notify,
    open_gateway_order,
    racing_twin,
    signed,
    start,
)
from tests.helpers import run_at_once
from unionpay_sandbox.models import SandboxOrder
from unionpay_sandbox.tasks import notification_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("not_auto_debit_day")]


def assert_unpaid(person):
    assert set(Bill.objects.filter(enrolment__person=person).values_list("status", flat=True)) == {
        BillStatus.UNPAID
    }
    assert not PaidRecord.objects.filter(enrolment__person=person).exists()


def test_card_payment_end_to_end_through_the_sandbox(
    flexible_client, flexible, django_capture_on_commit_callbacks
):
    flexible_client.post(reverse("contributions:pay"), {"target": "self"})
    page = flexible_client.get(reverse("contributions:pay_enrolments")).content.decode()
    flexible_client.post(
        reverse("contributions:pay_enrolments"),
        {"enrolments": re.findall(r'name="enrolments" value="(\d+)"', page)},
    )
    flexible_client.post(reverse("contributions:pay_bills"), {"notices": daily_notices(flexible)})
    key = flexible_client.session["pay_wizard"]["idempotency_key"]
    to_gateway = flexible_client.post(
        reverse("contributions:pay_method"), {"method": "card", "idempotency_key": key}
    )
    cashier = to_gateway["Location"]
    assert cashier.startswith("/sandbox/unionpay/pay/")
    assert "2349.90" in flexible_client.get(cashier).content.decode()

    with django_capture_on_commit_callbacks() as callbacks:
        back = flexible_client.post(cashier, {"action": "pay", "card_number": "6222021234567890128"})
    assert len(callbacks) == 1  # the asynchronous notification is queued after the commit

    result = flexible_client.get(back["Location"])  # no notification yet: the portal asks the gateway
    assert "缴费成功" in result.content.decode()
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.paid_by.person == flexible
    assert PaidRecord.objects.filter(payment=payment).count() == 2
    assert sum(r.amount for r in PaidRecord.objects.filter(payment=payment)) == Decimal("2349.90")


def test_the_gateways_notification_settles_the_order(client, flexible):
    payment = start(flexible)

    response = notify(client, notification(payment))

    assert response.content == b"success"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert set(
        Bill.objects.filter(notice_number__in=daily_notices(flexible)).values_list("status", flat=True)
    ) == {BillStatus.PAID}


def test_a_replayed_notification_gets_success_and_changes_nothing(client, flexible):
    payment = start(flexible)
    notify(client, notification(payment))
    records = list(PaidRecord.objects.values_list("pk", "voucher_number"))

    again = notify(client, notification(payment))

    assert again.content == b"success"
    assert list(PaidRecord.objects.values_list("pk", "voucher_number")) == records


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: {**p, "amount": "1.00"},  # signature no longer matches
        lambda p: signed(**{**{k: v for k, v in p.items() if k != "signature"}, "amount": "1.00"}),
        lambda p: signed(**{**{k: v for k, v in p.items() if k != "signature"}, "merchant_id": "999"}),
        lambda p: signed(**{**{k: v for k, v in p.items() if k != "signature"}, "order_number": "SB0"}),
        lambda p: {k: v for k, v in p.items() if k != "signature"},
    ],
    ids=["bad-signature", "other-amount", "other-merchant", "unknown-order", "unsigned"],
)
def test_a_bad_notification_is_refused_and_changes_nothing(client, flexible, tamper):
    payment = start(flexible)

    response = notify(client, tamper(notification(payment)))

    assert response.status_code == 400
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert_unpaid(flexible)


def test_a_failed_payment_leaves_the_bills_payable(client, flexible):
    payment = start(flexible)

    notify(client, notification(payment, status="FAILED"))

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert_unpaid(flexible)
    assert start(flexible).status == PaymentStatus.PENDING


def test_a_declined_card_at_the_gateway_leaves_the_bills_payable(flexible_client, flexible):
    payment = start(flexible, paid_by=User.objects.get(person=flexible))
    cashier = open_gateway_order(payment)

    page = flexible_client.post(
        cashier, {"action": "pay", "card_number": "6222020000000000000"}
    ).content.decode()

    assert "余额不足" in page
    assert SandboxOrder.objects.get().status == SandboxOrder.Status.PENDING
    assert_unpaid(flexible)


def test_the_gateway_checks_the_card_number(flexible_client, flexible):
    cashier = open_gateway_order(start(flexible))

    page = flexible_client.post(
        cashier, {"action": "pay", "card_number": "6222021234567890129"}
    ).content.decode()

    assert "银行卡号有误" in page


def test_two_tabs_never_pay_twice(client, flexible):
    first = start(flexible, idempotency_key="tab-1")
    open_gateway_order(first)
    second = start(flexible, idempotency_key="tab-2")  # closes the first order, at the gateway too

    first.refresh_from_db()
    assert first.status == PaymentStatus.CLOSED
    assert SandboxOrder.objects.get(order_number=first.order_number).status == SandboxOrder.Status.CLOSED
    notify(client, notification(second))
    notify(client, notification(first))  # even if money for the first arrived anyway

    first.refresh_from_db()
    assert first.status == PaymentStatus.REFUND_DUE
    assert PaidRecord.objects.filter(enrolment__person=flexible).count() == 2  # the two bills, once each


def test_a_new_attempt_settles_an_old_order_that_was_paid_meanwhile(flexible_client, flexible):
    first = start(flexible, idempotency_key="tab-1")
    flexible_client.post(open_gateway_order(first), {"action": "pay", "card_number": "6222021234567890128"})

    with pytest.raises(services.PaymentError, match="已缴费"):
        start(flexible, idempotency_key="tab-2")

    first.refresh_from_db()
    assert first.status == PaymentStatus.SUCCEEDED


def test_an_idempotency_key_with_a_different_request_is_refused(flexible, resident):
    start(flexible, idempotency_key="same")

    with pytest.raises(services.PaymentError, match="不一致"):
        services.start_payment(
            person=resident,
            notice_numbers=daily_notices(resident),
            method="card",
            channel=PaymentChannel.PORTAL,
            idempotency_key="same",
        )


def test_rule_3_only_whole_notices_can_be_paid(flexible):
    payment = start(flexible)

    assert (
        payment.lines.count() == Bill.objects.filter(notice_number__in=daily_notices(flexible)).count() == 2
    )


def test_a_paid_payment_cannot_be_undone_and_bills_cannot_be_paid_again(client, flexible):
    payment = start(flexible)
    notify(client, notification(payment))

    with pytest.raises(services.PaymentError, match="已缴费"):
        start(flexible)
    services.fail_payment(order_number=payment.order_number, reason="撤销")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


def test_the_database_refuses_a_second_paid_record_for_a_bill(client, flexible):
    from django.db import IntegrityError, transaction

    payment = start(flexible)
    notify(client, notification(payment))
    record = PaidRecord.objects.filter(payment=payment).first()

    with pytest.raises(IntegrityError), transaction.atomic():
        PaidRecord.objects.create(
            voucher_number="X1",
            enrolment=record.enrolment,
            bill=record.bill,
            tax_authority=record.tax_authority,
            period_start=record.period_start,
            period_end=record.period_end,
            amount=record.amount,
        )


def test_the_sandbox_posts_a_signed_notification_that_the_portal_accepts(client, flexible, monkeypatch):
    from unionpay_sandbox import tasks

    payment = start(flexible)
    open_gateway_order(payment)
    SandboxOrder.objects.update(status=SandboxOrder.Status.PAID)
    posted = []

    def deliver(url, params):
        posted.append(url)
        return notify(client, params).content.decode()

    monkeypatch.setattr(tasks, "post", deliver)
    tasks.notify_merchant.apply(args=[SandboxOrder.objects.get().pk]).get()

    assert posted == ["http://testserver/contributions/gateway/notify/"]
    assert SandboxOrder.objects.get().notified_at is not None
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert notification_for(SandboxOrder.objects.get())["status"] == "SUCCESS"


def test_another_account_cannot_see_a_payment(client, flexible, resident):
    payment = start(flexible, paid_by=User.objects.get(person=flexible))
    client.force_login(User.objects.get(person=resident))

    assert client.get(reverse("contributions:payment", args=[payment.order_number])).status_code == 404


def test_records_page_lists_payments_and_paid_records(
    flexible_client, flexible, django_assert_max_num_queries
):
    payment = start(flexible, paid_by=User.objects.get(person=flexible))
    notify(flexible_client, notification(payment))

    with django_assert_max_num_queries(10):
        page = flexible_client.get(reverse("contributions:records")).content.decode()

    assert payment.order_number in page and "支付成功" in page
    assert "待入库" in page and "1492.00" in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_settlements_of_one_order_pay_once(flexible):
    payment = start(flexible)

    def settle():
        return services.settle_payment(order_number=payment.order_number, amount=payment.amount).status

    results = run_at_once(settle, settle)

    assert results == [PaymentStatus.SUCCEEDED, PaymentStatus.SUCCEEDED]
    assert PaidRecord.objects.filter(payment=payment).count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_orders_for_the_same_bills_settling_at_once_pay_once(flexible):
    first = start(flexible, idempotency_key="a")
    second = racing_twin(first, order_number="SB-race")

    outcomes = run_at_once(
        *[
            lambda order=order: services.settle_payment(order_number=order.order_number, amount=order.amount)
            for order in (first, second)
        ]
    )

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    statuses = sorted(Payment.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True))
    assert statuses == [PaymentStatus.REFUND_DUE, PaymentStatus.SUCCEEDED]
    assert PaidRecord.objects.filter(enrolment__person=flexible).count() == 2


def _sign_mandate(person):
    from mandates import services as mandates
    from mandates.models import MandateChannel

    account = {"flexible": ("ICBC", "6222021001150017009"), "resident": ("SRCB", "6224780000006220020")}
    key = "flexible" if person.name == "张灵活" else "resident"
    bank, number = account[key]
    return mandates.sign_mandate(
        person=person,
        bank=bank,
        account_number=number,
        reserved_phone=person.phone,
        channel=MandateChannel.ONLINE,
    )


def _to_method_page(client, person):
    client.post(reverse("contributions:pay"), {"target": "self"})
    page = client.get(reverse("contributions:pay_enrolments")).content.decode()
    client.post(
        reverse("contributions:pay_enrolments"),
        {"enrolments": re.findall(r'name="enrolments" value="(\d+)"', page)},
    )
    client.post(reverse("contributions:pay_bills"), {"notices": daily_notices(person)})
    return client.session["pay_wizard"]["idempotency_key"]


def test_mandate_payment_is_offered_only_with_an_active_mandate(flexible_client, flexible):
    _to_method_page(flexible_client, flexible)
    assert 'value="mandate"' not in flexible_client.get(reverse("contributions:pay_method")).content.decode()

    _sign_mandate(flexible)

    assert 'value="mandate"' in flexible_client.get(reverse("contributions:pay_method")).content.decode()


def test_mandate_payment_debits_the_account_at_once(flexible_client, flexible):
    from bank_sandbox.models import SandboxAccount

    _sign_mandate(flexible)
    key = _to_method_page(flexible_client, flexible)

    response = flexible_client.post(
        reverse("contributions:pay_method"), {"method": "mandate", "idempotency_key": key}
    )
    again = flexible_client.post(
        reverse("contributions:pay_method"), {"method": "mandate", "idempotency_key": key}
    )

    payment = Payment.objects.get()
    assert response["Location"] == reverse("contributions:payment", args=[payment.order_number])
    assert again.status_code in (200, 302)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.method == "mandate"
    assert SandboxAccount.objects.get(account_number="6222021001150017009").balance == Decimal(
        "50000.00"
    ) - Decimal("2349.90")


def test_insufficient_funds_says_so_and_leaves_the_bills_payable(client, resident):
    _sign_mandate(resident)
    client.force_login(User.objects.get(person=resident))
    client.post(reverse("contributions:pay"), {"target": "self"})
    page = client.get(reverse("contributions:pay_enrolments")).content.decode()
    client.post(
        reverse("contributions:pay_enrolments"),
        {"enrolments": re.findall(r'name="enrolments" value="(\d+)"', page)},
    )
    client.post(reverse("contributions:pay_bills"), {"notices": daily_notices(resident)})
    key = client.session["pay_wizard"]["idempotency_key"]

    response = client.post(reverse("contributions:pay_method"), {"method": "mandate", "idempotency_key": key})

    assert "账户余额不足" in response.content.decode()
    assert Payment.objects.get().status == PaymentStatus.FAILED
    assert_unpaid(resident)
    assert client.session["pay_wizard"]["idempotency_key"] != key  # a retry is a new attempt
