"""Fixtures and helpers of the payment tests: demo payers, payments through the services, gateway messages."""

import pytest
from django.conf import settings
from django.urls import reverse

from contributions import services
from contributions.models import Bill, BillKind, Payment, PaymentChannel
from payers.models import Person, User
from portal import demo
from unionpay_sandbox.signing import signature


def demo_person(key):
    spec = next(p for p in demo.PEOPLE if p.key == key)
    return Person.objects.get(id_number=spec.id_number)


@pytest.fixture
def flexible(seeded):
    return demo_person("flexible")


@pytest.fixture
def resident(seeded):
    return demo_person("resident")


@pytest.fixture
def flexible_client(client, flexible):
    client.force_login(User.objects.get(person=flexible))
    return client


def daily_notices(person):
    return sorted(
        set(
            Bill.objects.filter(enrolment__person=person, kind=BillKind.DAILY).values_list(
                "notice_number", flat=True
            )
        )
    )


def start(person, **kwargs):
    """A payment of the person's daily notices through the service: a portal card payment unless told."""
    options = {"method": "card", "channel": PaymentChannel.PORTAL, **kwargs}
    return services.start_payment(person=person, notice_numbers=daily_notices(person), **options)


def open_gateway_order(payment):
    from contributions.adapters.gateway import get_gateway

    url = get_gateway().create_order(
        order_number=payment.order_number,
        amount=payment.amount,
        description="社会保险费",
        notify_url="http://testserver/contributions/gateway/notify/",
        return_url=f"http://testserver/contributions/payments/{payment.order_number}/",
    )
    return url


def signed(**params):
    params["signature"] = signature(params, settings.PAYMENT_GATEWAY["SIGNING_KEY"])
    return params


def notification(payment, **overrides):
    params = {
        "merchant_id": settings.PAYMENT_GATEWAY["MERCHANT_ID"],
        "order_number": payment.order_number,
        "trade_no": "T1",
        "amount": f"{payment.amount:.2f}",
        "status": "SUCCESS",
        "paid_at": "",
        **overrides,
    }
    return signed(**params)


def notify(client, params):
    return client.post(reverse("contributions:gateway_notify"), params)


def racing_twin(payment, **fields):
    """
    A second pending payment for the same bills, created behind the service's back: what two channels
    starting at the same instant can produce (each passed the "already paid?" check before the other).
    """
    twin = Payment.objects.create(
        **{
            "order_number": f"{payment.order_number}-twin",
            "person": payment.person,
            "method": "card",
            "channel": PaymentChannel.PORTAL,
            "amount": payment.amount,
            **fields,
        }
    )
    for line in payment.lines.all():
        twin.lines.create(bill=line.bill, amount=line.amount)
    return twin
