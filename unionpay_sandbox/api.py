"""
The sandbox gateway's server-to-server API, called in-process by the portal's adapter where a real
gateway would be called over HTTPS: create, query and close an order. Amounts are strings with two decimals.
"""

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from unionpay_sandbox.models import SandboxOrder


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
