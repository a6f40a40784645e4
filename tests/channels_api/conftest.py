import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from channels_api.credentials import issue_credential
from channels_api.models import PAYMENT_OPERATIONS, SUISHENBAN_OPERATIONS, ChannelCredential
from contributions.models import PaymentChannel
from payers.models import Person
from portal import demo

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from channel_client import ApiResponse, ChannelClient  # noqa: E402

BASE_URL = "http://testserver/api/channels/v1/"
ALL_OPERATIONS = [op.value for op in PAYMENT_OPERATIONS + SUISHENBAN_OPERATIONS]


def django_transport(client):
    """The reference client's transport, through Django's test client instead of the network."""

    def send(method, url, headers, body):
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        content_type = headers.get("Content-Type", "")
        other = {name: value for name, value in headers.items() if name != "Content-Type"}
        response = client.generic(method, path, data=body, content_type=content_type, headers=other)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        return ApiResponse(response.status_code, dict(response.items()), content)

    return send


def demo_person(key):
    spec = next(p for p in demo.PEOPLE if p.key == key)
    return Person.objects.get(id_number=spec.id_number)


def identity(key):
    spec = next(p for p in demo.PEOPLE if p.key == key)
    return {"name": spec.name, "id_type": "201", "id_number": spec.id_number}


@pytest.fixture
def make_credential(db):
    def make(channel=PaymentChannel.SUISHENBAN, *, operations=None, rate_limit=600, enabled=True):
        if operations is None:
            operations = (
                ALL_OPERATIONS
                if channel == PaymentChannel.SUISHENBAN
                else [o.value for o in PAYMENT_OPERATIONS]
            )
        credential = ChannelCredential(
            channel=channel, allowed_operations=operations, rate_limit_per_minute=rate_limit, enabled=enabled
        )
        secret = issue_credential(credential)
        return credential, secret

    return make


@pytest.fixture
def make_api(client, make_credential):
    """A reference client for a new credential of `channel`, talking to the test client."""

    def make(channel=PaymentChannel.SUISHENBAN, **options):
        credential, secret = make_credential(channel, **options)
        api = ChannelClient(BASE_URL, credential.key_id, secret, transport=django_transport(client))
        api.credential = credential
        return api

    return make


@pytest.fixture
def api(make_api, seeded, not_auto_debit_day):
    """随申办, allowed everything, on the demo data."""
    return make_api(PaymentChannel.SUISHENBAN)
