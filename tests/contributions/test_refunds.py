"""
退款: money that arrived for bills another payment had already paid (重复支付待退款) goes back the way it
came, once, by staff in admin; a payment that settled bills is never refunded.
"""

import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse

from bank_sandbox import api as bank_api
from bank_sandbox.models import SandboxAccount, SandboxDebit
from bank_sandbox.models import SandboxRefund as BankRefund
from contributions import services
from contributions.adapters.gateway import RefundResult, UnionPaySandboxGateway
from contributions.models import (
    Bill,
    BillStatus,
    PaidRecord,
    Payment,
    PaymentChannel,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from mandates.models import MandateChannel
from mandates.services import sign_mandate
from payers.models import SmsMessage, User
from tests.contributions.conftest import notification, notify, open_gateway_order, racing_twin, start
from tests.helpers import log_in_staff, run_at_once
from unionpay_sandbox import api as gateway_api
from unionpay_sandbox.models import SandboxOrder, SandboxRefund
from unionpay_sandbox.signing import signature

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("not_auto_debit_day")]

OWED = Decimal("2349.90")  # the flexible worker's daily notice
FLEXIBLE_ACCOUNT = ("ICBC", "6222021001150017009")  # the demo bank account, 50000.00


def pay_at_the_cashier(client, payment):
    """The payer pays the card order at the sandbox's cashier page (the notification is not sent yet)."""
    client.post(open_gateway_order(payment), {"action": "pay", "card_number": "6222021234567890128"})
    assert SandboxOrder.objects.get(order_number=payment.order_number).status == SandboxOrder.Status.PAID


def settle(payment):
    return services.settle_payment(order_number=payment.order_number, amount=payment.amount)


@pytest.fixture
def card_paid_twice(client, flexible):
    """A card payment whose money arrived after a racing counter payment had paid the same bills."""
    card = start(flexible, idempotency_key="card")
    pay_at_the_cashier(client, card)
    settle(racing_twin(card, method=PaymentMethod.CASH, channel=PaymentChannel.TAX_HALL))
    assert notify(client, notification(card)).content == b"success"
    card.refresh_from_db()
    assert card.status == PaymentStatus.REFUND_DUE
    return card


def refund_sms(person):
    return SmsMessage.objects.filter(phone=person.phone, purpose="refund")


def bank_balance():
    bank, number = FLEXIBLE_ACCOUNT
    return SandboxAccount.objects.get(bank=bank, account_number=number).balance


def money_taken_less_refunded():
    """Card orders paid + bank debits + counter and channel settlements − what went back."""
    card = sum(o.amount for o in SandboxOrder.objects.filter(status__in=["paid", "refunded"]))
    bank = sum(d.amount for d in SandboxDebit.objects.filter(result="succeeded"))
    other = sum(
        p.amount
        for p in Payment.objects.exclude(method__in=[PaymentMethod.CARD, PaymentMethod.MANDATE]).filter(
            status__in=[PaymentStatus.SUCCEEDED, PaymentStatus.REFUND_DUE, PaymentStatus.REFUNDED]
        )
    )
    refunded = sum(r.amount for r in Refund.objects.filter(status=RefundStatus.SUCCEEDED))
    return card + bank + other - refunded


def test_a_card_payment_paid_twice_is_refunded_to_the_card_once(card_paid_twice, flexible, admin_user):
    refund = services.refund_payment(payment=card_paid_twice, operator=admin_user)
    again = services.refund_payment(payment=card_paid_twice, operator=admin_user)  # a double click

    assert again == refund
    assert (refund.amount, refund.status, refund.operator) == (OWED, RefundStatus.SUCCEEDED, admin_user)
    assert refund.refunded_at is not None and refund.gateway_reference
    card_paid_twice.refresh_from_db()
    assert card_paid_twice.status == PaymentStatus.REFUNDED
    assert card_paid_twice.get_status_display() == "已退款"
    gateway_refund = SandboxRefund.objects.get()
    assert (gateway_refund.amount, gateway_refund.refund_trade_no) == (OWED, refund.gateway_reference)
    assert SandboxOrder.objects.get(order_number=card_paid_twice.order_number).status == "refunded"
    # The bills stay paid, once, by the counter payment.
    assert set(
        Bill.objects.filter(enrolment__person=flexible, kind="daily").values_list("status", flat=True)
    ) == {BillStatus.PAID}
    assert not PaidRecord.objects.filter(payment=card_paid_twice).exists()
    sms = refund_sms(flexible).get()
    assert (
        f"社会保险费{OWED}元（订单号{card_paid_twice.order_number}）" in sms.body and "已原路退回" in sms.body
    )
    assert money_taken_less_refunded() == sum(
        r.amount for r in PaidRecord.objects.filter(payment__isnull=False)
    )


def test_a_duplicate_mandate_debit_is_credited_back_to_the_account(flexible, admin_user):
    bank, number = FLEXIBLE_ACCOUNT
    sign_mandate(
        person=flexible,
        bank=bank,
        account_number=number,
        reserved_phone=flexible.phone,
        channel=MandateChannel.ONLINE,
    )
    by_mandate = start(flexible, method=PaymentMethod.MANDATE)
    settle(racing_twin(by_mandate, method=PaymentMethod.CASH, channel=PaymentChannel.TAX_HALL))
    assert services.collect_by_mandate(by_mandate).status == PaymentStatus.REFUND_DUE
    assert bank_balance() == Decimal("50000.00") - OWED

    refund = services.refund_payment(payment=by_mandate, operator=admin_user)
    services.refund_payment(payment=by_mandate, operator=admin_user)

    assert refund.status == RefundStatus.SUCCEEDED and refund.amount == OWED
    assert bank_balance() == Decimal("50000.00")
    assert BankRefund.objects.get().debit == SandboxDebit.objects.get(reference=by_mandate.order_number)
    assert refund_sms(flexible).count() == 1
    assert money_taken_less_refunded() == sum(
        r.amount for r in PaidRecord.objects.filter(payment__isnull=False)
    )


def test_a_duplicate_counter_payment_is_given_back_at_the_counter(client, flexible, admin_user):
    card = start(flexible, idempotency_key="card")
    pay_at_the_cashier(client, card)
    notify(client, notification(card))
    cash = racing_twin(card, method=PaymentMethod.CASH, channel=PaymentChannel.TAX_HALL, operator=admin_user)
    assert settle(cash).status == PaymentStatus.REFUND_DUE

    refund = services.refund_payment(payment=cash, operator=admin_user)

    assert refund.status == RefundStatus.SUCCEEDED and refund.gateway_reference == f"柜台退款-{admin_user.pk}"
    assert not SandboxRefund.objects.exists()  # the card payment that paid the bills is not touched
    cash.refresh_from_db()
    assert cash.status == PaymentStatus.REFUNDED


@pytest.mark.parametrize("status", [PaymentStatus.SUCCEEDED, PaymentStatus.PENDING, PaymentStatus.FAILED])
def test_only_a_payment_paid_twice_is_refunded(client, flexible, admin_user, status):
    payment = start(flexible)
    if status == PaymentStatus.SUCCEEDED:
        pay_at_the_cashier(client, payment)
        notify(client, notification(payment))
    elif status == PaymentStatus.FAILED:
        services.fail_payment(order_number=payment.order_number, reason="支付失败")
    payment.refresh_from_db()
    assert payment.status == status

    with pytest.raises(services.RefundError, match="只有“重复支付待退款”的缴费订单可以退款"):
        services.refund_payment(payment=payment, operator=admin_user)

    payment.refresh_from_db()
    assert payment.status == status
    assert not Refund.objects.exists() and not SandboxRefund.objects.exists()
    assert not refund_sms(flexible).exists()


def test_a_payment_whose_paid_records_settled_the_bills_is_never_refunded(client, flexible, admin_user):
    """Even mislabelled 重复支付待退款: refunding it would unpay the bills it paid."""
    payment = start(flexible)
    pay_at_the_cashier(client, payment)
    notify(client, notification(payment))
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.REFUND_DUE)

    with pytest.raises(services.RefundError):
        services.refund_payment(payment=payment, operator=admin_user)

    assert not SandboxRefund.objects.exists() and not Refund.objects.exists()
    assert PaidRecord.objects.filter(payment=payment).count() == 2


def test_money_a_channel_collected_is_refunded_by_that_channel(flexible, admin_user):
    alipay = start(flexible, method=PaymentMethod.ALIPAY, channel=PaymentChannel.ALIPAY)
    settle(racing_twin(alipay, method=PaymentMethod.CASH, channel=PaymentChannel.TAX_HALL))
    assert settle(alipay).status == PaymentStatus.REFUND_DUE

    with pytest.raises(services.RefundError, match="请通知该渠道原路退款"):
        services.refund_payment(payment=alipay, operator=admin_user)

    alipay.refresh_from_db()
    assert alipay.status == PaymentStatus.REFUND_DUE and not Refund.objects.exists()


def test_a_refund_the_gateway_refuses_is_recorded_and_can_be_tried_again(
    card_paid_twice, flexible, admin_user, monkeypatch
):
    with monkeypatch.context() as patch:
        patch.setattr(
            UnionPaySandboxGateway,
            "refund",
            lambda self, **kw: RefundResult(kw["refund_number"], ok=False, message="商户可退余额不足"),
        )
        with pytest.raises(services.RefundError, match="退款未成功：商户可退余额不足"):
            services.refund_payment(payment=card_paid_twice, operator=admin_user)

    failed = Refund.objects.get()
    assert (failed.status, failed.failure_reason) == (RefundStatus.FAILED, "商户可退余额不足")
    card_paid_twice.refresh_from_db()
    assert card_paid_twice.status == PaymentStatus.REFUND_DUE
    assert not refund_sms(flexible).exists()

    refund = services.refund_payment(payment=card_paid_twice, operator=admin_user)

    assert refund.pk == failed.pk and refund.status == RefundStatus.SUCCEEDED and refund.failure_reason == ""
    assert SandboxRefund.objects.get().refund_number == failed.refund_number


def test_a_notification_replayed_after_the_refund_changes_nothing(client, card_paid_twice, admin_user):
    services.refund_payment(payment=card_paid_twice, operator=admin_user)
    records = PaidRecord.objects.count()

    assert notify(client, notification(card_paid_twice)).content == b"success"

    card_paid_twice.refresh_from_db()
    assert card_paid_twice.status == PaymentStatus.REFUNDED
    assert PaidRecord.objects.count() == records


def signed_refund(order_number, amount, refund_number="RF1"):
    params = {
        "merchant_id": settings.PAYMENT_GATEWAY["MERCHANT_ID"],
        "order_number": order_number,
        "refund_number": refund_number,
        "amount": amount,
    }
    params["signature"] = signature(params, settings.PAYMENT_GATEWAY["SIGNING_KEY"])
    return params


def test_the_gateway_refunds_only_signed_requests_once_per_number_and_never_more_than_paid(client, flexible):
    payment = start(flexible)
    pay_at_the_cashier(client, payment)
    order = payment.order_number

    tampered = {**signed_refund(order, "100.00"), "amount": "2000.00"}
    unsigned = {k: v for k, v in signed_refund(order, "100.00").items() if k != "signature"}
    assert gateway_api.refund(tampered).message == "签名错误"
    assert gateway_api.refund(unsigned).message == "签名错误"
    assert gateway_api.refund(signed_refund(order, "2349.91")).message == "退款金额超过原订单可退金额"
    first = gateway_api.refund(signed_refund(order, "2000.00"))
    again = gateway_api.refund(signed_refund(order, "2000.00"))
    assert first.ok and again == first
    assert gateway_api.refund(signed_refund(order, "500.00", "RF2")).message == "退款金额超过原订单可退金额"
    assert gateway_api.refund(signed_refund(order, "349.90", "RF2")).ok

    assert SandboxRefund.objects.count() == 2
    assert SandboxOrder.objects.get(order_number=order).status == SandboxOrder.Status.REFUNDED


def test_the_gateway_does_not_refund_an_unpaid_order(flexible):
    payment = start(flexible)
    open_gateway_order(payment)

    assert gateway_api.refund(signed_refund(payment.order_number, "1.00")).message == "原订单未支付，不能退款"
    assert not SandboxRefund.objects.exists()


def test_the_bank_refunds_a_debit_once_per_number_and_never_more_than_debited(seeded):
    bank, number = FLEXIBLE_ACCOUNT
    bank_api.debit(bank=bank, account_number=number, amount="300.00", reference="D1")

    assert (
        bank_api.refund(reference="D1", refund_number="R1", amount="300.01").message
        == "退款金额超过原扣款金额"
    )
    assert bank_api.refund(reference="D1", refund_number="R1", amount="200.00").ok
    assert bank_api.refund(reference="D1", refund_number="R1", amount="200.00").ok  # the same refund
    assert (
        bank_api.refund(reference="D1", refund_number="R2", amount="100.01").message
        == "退款金额超过原扣款金额"
    )
    assert bank_api.refund(reference="D2", refund_number="R3", amount="1.00").message.startswith(
        "原扣款不存在"
    )

    assert bank_balance() == Decimal("50000.00") - Decimal("100.00")
    assert BankRefund.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_staff_refunding_at_once_refund_once(client, seeded, flexible, admin_user, monkeypatch):
    card = start(flexible, idempotency_key="card")
    pay_at_the_cashier(client, card)
    settle(racing_twin(card, method=PaymentMethod.CASH, channel=PaymentChannel.TAX_HALL))
    notify(client, notification(card))
    # Both requests get past the payment's check and reach the gateway before either records the result.
    at_the_gateway = threading.Barrier(2, timeout=30)
    real_refund = UnionPaySandboxGateway.refund

    def refund_when_both_are_here(self, **kwargs):
        at_the_gateway.wait()
        return real_refund(self, **kwargs)

    monkeypatch.setattr(UnionPaySandboxGateway, "refund", refund_when_both_are_here)

    outcomes = run_at_once(*[lambda: services.refund_payment(payment=card, operator=admin_user)] * 2)

    assert [type(o) for o in outcomes] == [Refund, Refund], outcomes
    assert outcomes[0].pk == outcomes[1].pk
    assert SandboxRefund.objects.count() == 1 and Refund.objects.count() == 1
    assert Payment.objects.get(pk=card.pk).status == PaymentStatus.REFUNDED
    assert refund_sms(flexible).count() == 1


# --- admin and the payer's pages ---------------------------------------------------------------------


def test_staff_refund_with_the_button_and_the_payer_sees_it(admin_client, card_paid_twice, flexible):
    change = reverse("admin:contributions_payment_change", args=[card_paid_twice.pk])
    refund_url = reverse("admin:contributions_payment_refund", args=[card_paid_twice.pk])

    before = admin_client.get(change).content.decode()
    confirm = admin_client.get(refund_url).content.decode()
    done = admin_client.post(refund_url)
    after = admin_client.get(change).content.decode()

    assert f'href="{refund_url}">退款</a>' in before and "重复支付待退款" in before
    assert "确认退款" in confirm and "2349.90" in confirm and "**活" in confirm
    assert done.status_code == 302 and done["Location"] == change
    assert (
        "退款成功：订单号" in after and "退款成功 2349.90 元" in after and f'href="{refund_url}"' not in after
    )
    for page in (before, confirm, after):
        assert flexible.name not in page and flexible.id_number not in page
    assert Payment.objects.get(pk=card_paid_twice.pk).status == PaymentStatus.REFUNDED

    admin_client.force_login(User.objects.get(person=flexible))
    records = admin_client.get(reverse("contributions:records")).content.decode()
    result = admin_client.get(
        reverse("contributions:payment", args=[card_paid_twice.order_number])
    ).content.decode()
    assert "已退款（退款 2349.90 元）" in records
    assert "款项已原路退回：退款金额 2349.90 元" in result and "已退款" in result


def test_the_admin_action_refunds_the_payments_paid_twice_and_refuses_the_others(
    admin_client, card_paid_twice, flexible
):
    paid = Payment.objects.get(status=PaymentStatus.SUCCEEDED)

    response = admin_client.post(
        reverse("admin:contributions_payment_changelist"),
        {"action": "refund_selected", "_selected_action": [card_paid_twice.pk, paid.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert f"{card_paid_twice.order_number}：已退款 2349.90 元。" in page
    assert f"{paid.order_number}：只有“重复支付待退款”的缴费订单可以退款" in page
    assert Refund.objects.get().payment == card_paid_twice
    assert Payment.objects.get(pk=paid.pk).status == PaymentStatus.SUCCEEDED


def test_staff_without_the_refund_permission_cannot_refund(client, card_paid_twice):
    clerk = User.objects.create_user(username="clerk", password="x", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_payment"))
    log_in_staff(client, clerk)

    refused = client.post(reverse("admin:contributions_payment_refund", args=[card_paid_twice.pk]))
    changelist = client.get(reverse("admin:contributions_payment_changelist")).content.decode()

    assert refused.status_code == 403
    assert "refund_selected" not in changelist
    assert not Refund.objects.exists()


def test_the_refund_list_in_admin_is_masked(admin_client, card_paid_twice, flexible, admin_user):
    services.refund_payment(payment=card_paid_twice, operator=admin_user)

    page = admin_client.get(reverse("admin:contributions_refund_changelist")).content.decode()
    detail = admin_client.get(
        reverse("admin:contributions_refund_change", args=[Refund.objects.get().pk])
    ).content.decode()

    assert card_paid_twice.order_number in page and "2349.90" in page and "**活" in page
    for text in (page, detail):
        assert flexible.name not in text and flexible.id_number not in text
