import logging
import urllib.request
from urllib.parse import urlencode

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from unionpay_sandbox.models import SandboxOrder
from unionpay_sandbox.signing import signature

logger = logging.getLogger(__name__)


def notification_for(order):
    """The signed parameters the gateway posts to the merchant's notify URL."""
    params = {
        "merchant_id": order.merchant_id,
        "order_number": order.order_number,
        "trade_no": order.trade_no,
        "amount": f"{order.amount:.2f}",
        "status": "SUCCESS" if order.status == SandboxOrder.Status.PAID else "FAILED",
        "paid_at": order.paid_at.isoformat() if order.paid_at else "",
    }
    params["signature"] = signature(params, settings.PAYMENT_GATEWAY["SIGNING_KEY"])
    return params


def post(url, params):
    request = urllib.request.Request(url, data=urlencode(params).encode(), method="POST")  # noqa: S310 (the merchant's URL)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.read().decode()


@shared_task(bind=True, max_retries=10, ignore_result=True)
def notify_merchant(self, order_id):
    """Post the result until the merchant answers "success", backing off like real gateways do."""
    order = SandboxOrder.objects.get(pk=order_id)
    try:
        answer = post(order.notify_url, notification_for(order))
    except OSError as error:
        logger.warning("sandbox: notification of %s failed: %s", order.order_number, error)
        raise self.retry(exc=error, countdown=min(5 * 2**self.request.retries, 900)) from error
    if answer.strip() != "success":
        raise self.retry(countdown=min(5 * 2**self.request.retries, 900))
    SandboxOrder.objects.filter(pk=order.pk).update(notified_at=timezone.now())


def send_notification(order_id):
    """
    Enqueue the merchant's notification; True if sent. With the broker unreachable the order (already paid)
    is marked `notify_pending` for resend_pending_notifications, and the cashier still answers normally.
    """
    try:
        notify_merchant.delay(order_id)
    except Exception:
        # Not swallowed: logged, and the beat task sends it again once the broker is back.
        logger.exception(
            "sandbox: could not reach the broker to notify order %s; left for the resend task", order_id
        )
        SandboxOrder.objects.filter(pk=order_id).update(notify_pending=True)
        return False
    return True


@shared_task(ignore_result=True)
def resend_pending_notifications():
    """Beat: the notifications a broker outage kept from being sent; stops at the first that still cannot be."""
    sent = 0
    for order_id in (
        SandboxOrder.objects.filter(notify_pending=True).order_by("pk").values_list("pk", flat=True)
    ):
        if not send_notification(order_id):
            break
        SandboxOrder.objects.filter(pk=order_id).update(notify_pending=False)
        sent += 1
    return sent
