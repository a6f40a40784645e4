"""
The card-payment gateway the portal talks to, chosen by settings.PAYMENT_GATEWAY["BACKEND"].

`UnionPaySandboxGateway` speaks to the simulated gateway shipped in `unionpay_sandbox/`; a real
UnionPay adapter implements the same methods over HTTPS.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.module_loading import import_string

from unionpay_sandbox import api
from unionpay_sandbox.signing import is_signed, signature


class InvalidNotification(Exception):
    """A notification that is not from our gateway, or not for us: refused, and it changes nothing."""


@dataclass(frozen=True)
class GatewayResult:
    order_number: str
    paid: bool
    amount: Decimal | None = None
    reference: str = ""
    status: str = ""


@dataclass(frozen=True)
class RefundResult:
    """A refund's outcome: `ok` with the gateway's (or bank's) refund reference, or the reason it was refused."""

    refund_number: str
    ok: bool
    reference: str = ""
    message: str = ""


class UnionPaySandboxGateway:
    def __init__(self):
        self.merchant_id = settings.PAYMENT_GATEWAY["MERCHANT_ID"]
        self.key = settings.PAYMENT_GATEWAY["SIGNING_KEY"]

    def create_order(self, *, order_number, amount, description, notify_url, return_url):
        """Register the order; returns the URL of the gateway's cashier page to send the browser to."""
        return api.create_order(
            merchant_id=self.merchant_id,
            order_number=order_number,
            amount=f"{amount:.2f}",
            description=description,
            notify_url=notify_url,
            return_url=return_url,
        )

    def query_order(self, order_number):
        return self._result(api.query_order(merchant_id=self.merchant_id, order_number=order_number))

    def close_order(self, order_number):
        """Close an unpaid order; the result says whether it was in fact paid already."""
        return self._result(api.close_order(merchant_id=self.merchant_id, order_number=order_number))

    def refund(self, *, order_number, amount, refund_number):
        """
        Give `amount` of a paid order back to the card, by a signed request. Idempotent by `refund_number`:
        the same number again returns the first refund and moves no money.
        """
        params = {
            "merchant_id": self.merchant_id,
            "order_number": order_number,
            "refund_number": refund_number,
            "amount": f"{amount:.2f}",
        }
        params["signature"] = signature(params, self.key)
        state = api.refund(params)
        return RefundResult(
            refund_number=refund_number, ok=state.ok, reference=state.refund_trade_no, message=state.message
        )

    def verify_notification(self, params):
        """Check signature and merchant of an asynchronous notification; returns its result."""
        if not is_signed(params, self.key):
            raise InvalidNotification("bad signature")
        if params.get("merchant_id") != self.merchant_id:
            raise InvalidNotification("other merchant")
        try:
            amount = Decimal(params.get("amount", ""))
        except InvalidOperation:
            raise InvalidNotification("bad amount") from None
        return GatewayResult(
            order_number=params.get("order_number", ""),
            paid=params.get("status") == "SUCCESS",
            amount=amount,
            reference=params.get("trade_no", ""),
            status=params.get("status", ""),
        )

    def verify_return(self, params):
        """The browser's return: signed, but only a hint — the order is settled by notification or query."""
        return is_signed(params, self.key)

    @staticmethod
    def _result(state):
        return GatewayResult(
            order_number=state.order_number,
            paid=state.status == "paid",
            amount=state.amount,
            reference=state.trade_no,
            status=state.status,
        )


def get_gateway():
    return import_string(settings.PAYMENT_GATEWAY["BACKEND"])()
