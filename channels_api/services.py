"""
What channels change: payment orders (through contributions.services, with the channel's
Idempotency-Key), payment results, and the housekeeping of the signing state.

Guarantees, each with a test: one payment per (channel, Idempotency-Key), also under concurrent identical
requests; the same key with a different request is refused; a payment result settles through
`settle_payment`, idempotently, and never for another amount or another channel's order.
"""

import hashlib
import json
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from channels_api import selectors
from channels_api.authentication import purge_nonces
from channels_api.models import ChannelOrder
from channels_api.throttling import purge_windows
from contributions import services as contribution_services
from contributions.models import PaymentChannel, PaymentMethod, PaymentStatus


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before for a different request."""


class OrderNotFound(Exception):
    pass


class TradeConflict(Exception):
    """The order was already paid by another trade of the channel: the channel must refund this one."""


class StatusConflict(Exception):
    """A failure reported for an order that has been paid."""


# 支付方式 of a channel's payment: the wallet the person paid with in the channel's app.
PAY_METHODS = {"alipay": PaymentMethod.ALIPAY, "wechat": PaymentMethod.WECHAT, "unionpay": PaymentMethod.CARD}
DEFAULT_PAY_METHOD = {
    PaymentChannel.ALIPAY: "alipay",
    PaymentChannel.WECHAT_ICBC: "wechat",
    PaymentChannel.UNIONPAY_APP: "unionpay",
}
SETTLED = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUND_DUE)


def fingerprint(data):
    """A digest of a request's meaning (not its bytes): the same JSON in another order is the same request."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def payment_idempotency_key(channel, idempotency_key):
    # Payment.idempotency_key is unique across the portal and all channels: namespace the channel's key.
    return hashlib.sha256(f"{channel}\n{idempotency_key}".encode()).hexdigest()


def _order_for_key(channel, idempotency_key):
    return (
        ChannelOrder.objects.filter(channel=channel, idempotency_key=idempotency_key)
        .select_related("payment")
        .first()
    )


def _replay(order, request_fingerprint):
    if order.request_fingerprint != request_fingerprint:
        raise IdempotencyConflict
    return order.payment


def replayed_order(channel, idempotency_key, request_fingerprint):
    """The payment already made under this key (None if none); IdempotencyConflict for another request."""
    order = _order_for_key(channel, idempotency_key)
    return None if order is None else _replay(order, request_fingerprint)


def create_order(*, channel, idempotency_key, request_fingerprint, person, notice_numbers, pay_method):
    """
    The channel's payment order for whole notices: (payment, created). A repeated key returns its payment
    (created False) or raises IdempotencyConflict; payment rules raise contributions' PaymentError.
    """
    order = _order_for_key(channel, idempotency_key)
    if order is not None:
        return _replay(order, request_fingerprint), False
    try:
        # One transaction for the payment and its key: a concurrent twin waits on the payment's unique
        # idempotency key, then fails, and finds this order.
        with transaction.atomic():
            payment = contribution_services.start_payment(
                person=person,
                notice_numbers=notice_numbers,
                method=PAY_METHODS[pay_method],
                channel=channel,
                idempotency_key=payment_idempotency_key(channel, idempotency_key),
            )
            ChannelOrder.objects.create(
                channel=channel,
                idempotency_key=idempotency_key,
                request_fingerprint=request_fingerprint,
                payment=payment,
            )
    except (IntegrityError, contribution_services.PaymentError):
        order = _order_for_key(channel, idempotency_key)
        if order is None:
            raise
        return _replay(order, request_fingerprint), False
    return payment, True


def record_payment_result(*, channel, order_number, paid, amount=None, trade_no="", paid_at=None, reason=""):
    """
    The channel's word on its order. Paid: settle through `settle_payment` (a replay changes nothing;
    money for bills another payment settled makes the order 重复支付待退款). Failed: the bills stay payable.
    """
    payment = selectors.channel_payment(channel, order_number)
    if payment is None:
        raise OrderNotFound(order_number)
    if not paid:
        if payment.status in SETTLED:
            raise StatusConflict(order_number)
        contribution_services.fail_payment(order_number=order_number, reason=reason or "渠道通知支付失败")
        return selectors.channel_payment(channel, order_number)
    if Decimal(amount) != payment.amount:
        raise contribution_services.AmountMismatch(f"{order_number}: {amount} != {payment.amount}")
    if payment.status in SETTLED and payment.gateway_reference and payment.gateway_reference != trade_no:
        raise TradeConflict(order_number)
    contribution_services.settle_payment(
        order_number=order_number, amount=amount, reference=trade_no, paid_at=paid_at or timezone.now()
    )
    return selectors.channel_payment(channel, order_number)


def channel_account(channel):
    """
    The portal account a channel's certificate applications are made under (申请账户): one per channel,
    inactive and without a usable password, so nobody can log in with it.
    """
    label = dict(PaymentChannel.choices)[channel]
    user, _ = get_user_model().objects.get_or_create(
        username=f"channel-{channel}",
        defaults={"is_active": False, "first_name": label, "password": make_password(None)},
    )
    return user


def purge_expired(*, now=None):
    """Forget nonces past their window and old rate counters; returns how many rows went."""
    now = now or timezone.now()
    return purge_nonces(now=now) + purge_windows(now=now)
