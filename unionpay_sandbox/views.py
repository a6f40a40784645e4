"""
The sandbox gateway's cashier page: the payer enters a card number, the gateway "charges" it, tells the
merchant by a signed asynchronous notification (a Celery task) and sends the browser back.
"""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from unionpay_sandbox.models import SandboxOrder
from unionpay_sandbox.signing import signature
from unionpay_sandbox.tasks import send_notification

# Test cards, as a real sandbox publishes them (both pass the Luhn check).
DECLINED_CARD = "6222020000000000000"


def luhn_ok(number):
    # ASCII digits only: str.isdigit() also accepts ², ６, ٣ …, on which int() fails or which no card has.
    if not (number.isascii() and number.isdigit()):
        return False
    digits = [int(d) for d in number]
    checksum = sum(digits[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in digits[-2::-2])
    return checksum % 10 == 0


class CardForm(forms.Form):
    card_number = forms.CharField(
        label="银行卡号",
        max_length=23,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )

    def clean_card_number(self):
        number = self.cleaned_data["card_number"].replace(" ", "")
        if not (number.isascii() and number.isdigit() and 16 <= len(number) <= 19 and luhn_ok(number)):
            raise forms.ValidationError("银行卡号有误，请核对")
        return number


@require_http_methods(["GET", "POST"])
def pay(request, trade_no):
    order = get_object_or_404(SandboxOrder, trade_no=trade_no)
    form = CardForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "cancel":
        return redirect(_return_url(order, "cancelled"))
    if order.status == SandboxOrder.Status.PENDING and form.is_valid():
        if form.cleaned_data["card_number"] == DECLINED_CARD:
            form.add_error("card_number", "余额不足，支付失败。请更换银行卡或稍后再试。")
        elif _charge(order, form.cleaned_data["card_number"]):
            return redirect(_return_url(order, "paid"))
        order.refresh_from_db()
    return render(request, "unionpay_sandbox/pay.html", {"order": order, "form": form})


def _charge(order, card_number):
    """Mark the order paid once (a double submit charges nothing twice) and schedule the notification."""
    with transaction.atomic():
        charged = SandboxOrder.objects.filter(pk=order.pk, status=SandboxOrder.Status.PENDING).update(
            status=SandboxOrder.Status.PAID, paid_at=timezone.now(), card_last4=card_number[-4:]
        )
        if charged:
            transaction.on_commit(lambda: send_notification(order.pk))
    return charged


def _return_url(order, result):
    params = {"order_number": order.order_number, "result": result}
    params["signature"] = signature(params, settings.PAYMENT_GATEWAY["SIGNING_KEY"])
    separator = "&" if "?" in order.return_url else "?"
    return f"{order.return_url}{separator}{urlencode(params)}"
