"""
The sandbox gateway's server-to-server API, called in-process by the portal's adapter where a real
gateway would be called over HTTPS: create, query and close an order, refund a paid one. Amounts are
strings with two decimals.
"""

import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from unionpay_sandbox.models import SandboxOrder, SandboxRefund
from unionpay_sandbox.signing import is_signed


@dataclass(frozen=True)
class OrderState:
    order_number: str
    status: str  # "pending", "paid", "closed" or "unknown"
    amount: Decimal | None = None
    trade_no: str = ""
    paid_at: object = None


def create_order(*, merchant_id, order_number, amount, description, notify_url, return_url):
    """Register an order and return the path of the gateway's payment page for it."""
    order, _ = SandboxOrder.objects.get_or_create(
        merchant_id=merchant_id,
        order_number=order_number,
        defaults={
            "trade_no": timezone.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(6),
            "amount": Decimal(amount),
            "description": description,
            "notify_url": notify_url,
            "return_url": return_url,
        },
    )
    return reverse("unionpay_sandbox:pay", args=[order.trade_no])


def query_order(*, merchant_id, order_number):
    order = SandboxOrder.objects.filter(merchant_id=merchant_id, order_number=order_number).first()
    if order is None:
        return OrderState(order_number, "unknown")
    return OrderState(order_number, order.status, order.amount, order.trade_no, order.paid_at)


def close_order(*, merchant_id, order_number):
    """Close an unpaid order so it can no longer be paid; a paid order stays paid (and says so)."""
    with transaction.atomic():
        SandboxOrder.objects.filter(
            merchant_id=merchant_id, order_number=order_number, status=SandboxOrder.Status.PENDING
        ).update(status=SandboxOrder.Status.CLOSED)
    return query_order(merchant_id=merchant_id, order_number=order_number)


@dataclass(frozen=True)
class RefundState:
    refund_number: str
    ok: bool
    amount: Decimal | None = None
    refund_trade_no: str = ""
    message: str = ""


def refund(params):
    """
    Refund (part of) a paid order. `params` are signed by the merchant: merchant_id, order_number,
    refund_number, amount. Once per refund number: asking again returns the first refund and moves no
    money; the refunds of an order never add up to more than was paid.
    """
    if not is_signed(params, settings.PAYMENT_GATEWAY["SIGNING_KEY"]):
        return RefundState(params.get("refund_number", ""), False, message="签名错误")
    refund_number = params.get("refund_number", "")
    try:
        amount = Decimal(params.get("amount", ""))
    except InvalidOperation:
        return RefundState(refund_number, False, message="退款金额有误")
    if not refund_number or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        return RefundState(refund_number, False, message="退款金额有误")
    with transaction.atomic():
        order = (
            SandboxOrder.objects.select_for_update()
            .filter(merchant_id=params.get("merchant_id"), order_number=params.get("order_number"))
            .first()
        )
        if order is None:
            return RefundState(refund_number, False, message="原订单不存在")
        done = order.refunds.filter(refund_number=refund_number).first()
        if done is not None:
            if done.amount != amount:
                return RefundState(refund_number, False, message="退款单号已使用")
            return _refund_state(done)
        if order.status not in (SandboxOrder.Status.PAID, SandboxOrder.Status.REFUNDED):
            return RefundState(refund_number, False, message="原订单未支付，不能退款")
        refunded = order.refunds.aggregate(total=Sum("amount", default=Decimal("0.00")))["total"]
        if refunded + amount > order.amount:
            return RefundState(refund_number, False, message="退款金额超过原订单可退金额")
        done = SandboxRefund.objects.create(
            order=order,
            refund_number=refund_number,
            refund_trade_no=timezone.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(6),
            amount=amount,
        )
        if refunded + amount == order.amount:
            SandboxOrder.objects.filter(pk=order.pk).update(status=SandboxOrder.Status.REFUNDED)
    return _refund_state(done)


def _refund_state(done):
    return RefundState(done.refund_number, True, done.amount, done.refund_trade_no, "退款成功")
