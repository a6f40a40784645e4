"""Staff manage channel credentials in admin: the secret is shown once; the audit trail is read-only."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from channels_api import credentials
from channels_api.models import ApiCall, ChannelCredential
from payers.models import User
from portal import demo
from tests.helpers import log_in_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, seeded):
    log_in_staff(client, User.objects.get(username=demo.STAFF_USERNAME))
    return client


def add(staff_client, **overrides):
    data = {
        "channel": "alipay",
        "enabled": "on",
        "allowed_operations": ["enrolments.query", "bills.query", "orders.create"],
        "rate_limit_per_minute": "120",
        "note": "",
        **overrides,
    }
    return staff_client.post(reverse("admin:channels_api_channelcredential_add"), data)


def shown_secret(response):
    return re.search(r"<code data-secret>([^<]+)</code>", response.content.decode()).group(1)


def test_adding_a_credential_shows_its_secret_once(staff_client):
    response = add(staff_client)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = shown_secret(response)
    credential = ChannelCredential.objects.get()
    assert credential.key_id in response.content.decode()
    assert credential.allowed_operations == ["enrolments.query", "bills.query", "orders.create"]
    assert credential.rate_limit_per_minute == 120
    assert secret not in credential.secret_encrypted
    assert credentials.verification_secrets(credential, now=timezone.now()) == [secret]

    change = staff_client.get(reverse("admin:channels_api_channelcredential_change", args=[credential.pk]))
    assert secret not in change.content.decode()
    assert credential.secret_encrypted not in change.content.decode()


def test_mandate_operations_only_for_suishenban(staff_client):
    response = add(staff_client, allowed_operations=["mandates.sign"])

    assert response.status_code == 200
    assert "委托扣款协议和缴费证明业务仅对随申办开放" in response.content.decode()
    assert not ChannelCredential.objects.exists()
    assert add(staff_client, channel="suishenban", allowed_operations=["mandates.sign"]).status_code == 200
    assert ChannelCredential.objects.get().channel == "suishenban"


def test_one_credential_per_channel(staff_client):
    add(staff_client)

    response = add(staff_client)

    assert ChannelCredential.objects.count() == 1
    assert "已存在" in response.content.decode()


def test_rotating_shows_the_new_secret_once(staff_client):
    add(staff_client)
    credential = ChannelCredential.objects.get()
    old = credentials.verification_secrets(credential, now=timezone.now())[0]

    response = staff_client.post(
        reverse("admin:channels_api_channelcredential_changelist"),
        {"action": "rotate_secrets", "_selected_action": [credential.pk]},
    )

    new = shown_secret(response)
    credential.refresh_from_db()
    assert new != old
    assert credentials.verification_secrets(credential, now=timezone.now()) == [new, old]
    assert "仍可使用" in response.content.decode()


def test_api_calls_are_read_only(staff_client, api):
    api.post("enrolments/query", {"name": "张灵活", "id_type": "201", "id_number": "310115199003150017"})
    call = ApiCall.objects.get()

    listing = staff_client.get(reverse("admin:channels_api_apicall_changelist"))
    assert listing.status_code == 200
    assert "**活" in listing.content.decode() and "310115199003150017" not in listing.content.decode()
    assert staff_client.get(reverse("admin:channels_api_apicall_add")).status_code == 403
    detail = staff_client.get(reverse("admin:channels_api_apicall_change", args=[call.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert staff_client.post(reverse("admin:channels_api_apicall_delete", args=[call.pk])).status_code == 403
