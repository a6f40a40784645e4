"""Request signing, replay protection, permissions and the rate limit."""

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from channel_client import ChannelClient, sign_request, string_to_sign
from django.utils import timezone

from channels_api import credentials, signing
from channels_api.authentication import purge_nonces
from channels_api.models import ApiCall, ApiNonce, ChannelCredential, Operation, RateWindow
from channels_api.services import purge_expired
from contributions.models import PaymentChannel
from tests.channels_api.conftest import BASE_URL, identity

pytestmark = pytest.mark.django_db
GENERIC_401 = {"code": "unauthorized", "message": "认证失败"}
PATH = "enrolments/query"


def send(api, *, body=None, headers=None, sign_body=None, method="POST", path=PATH, **sign_options):
    """A hand-made request: sign `sign_body` (default: the body), send `body`, override headers."""
    body = json.dumps(body if body is not None else identity("flexible")).encode()
    signed = sign_request(
        api.secret,
        api.key_id,
        method,
        api.url(path),
        body if sign_body is None else sign_body,
        **sign_options,
    )
    return api.transport(
        method, api.url(path), {"Content-Type": "application/json", **signed, **(headers or {})}, body
    )


def last_call():
    return ApiCall.objects.latest("created_at", "id")


def test_client_and_server_sign_the_same_text():
    query = "b=2&a=%E4%B8%AD%E6%96%87&a=1&c="
    arguments = {
        "method": "get",
        "path": "/api/channels/v1/orders/SB1",
        "timestamp": "1700000000",
        "nonce": "n" * 16,
    }

    server = signing.string_to_sign(query_string=query, body=b"{}", **arguments)
    client = string_to_sign(arguments["method"], arguments["path"], query, "1700000000", "n" * 16, b"{}")

    assert server == client
    assert server.split("\n") == [
        "GET",
        "/api/channels/v1/orders/SB1",
        "a=1&a=%E4%B8%AD%E6%96%87&b=2&c=",
        "1700000000",
        "nnnnnnnnnnnnnnnn",
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    ]


def test_signed_request_passes(api):
    assert send(api).status == 200


def test_tampered_body_is_refused(api):
    response = send(api, body=identity("resident"), sign_body=json.dumps(identity("flexible")).encode())

    assert response.status == 401
    assert response.json() == GENERIC_401
    assert last_call().detail == "bad_signature"


def test_tampered_query_is_refused(api):
    order = "orders/SB1"
    signed = sign_request(api.secret, api.key_id, "GET", api.url(order) + "?x=1")
    response = api.transport("GET", api.url(order) + "?x=2", signed, b"")

    assert response.status == 401


def test_wrong_secret_is_refused(api):
    other = ChannelClient(BASE_URL, api.key_id, "not-the-secret", transport=api.transport)

    response = other.post(PATH, identity("flexible"))

    assert response.status == 401
    assert response.json() == GENERIC_401


@pytest.mark.parametrize("offset", [-301, 301])
def test_timestamp_older_or_newer_than_five_minutes_is_refused(api, offset):
    response = send(api, timestamp=int(time.time()) + offset)

    assert response.status == 401
    assert response.json() == GENERIC_401
    assert last_call().detail == "timestamp_out_of_window"


def test_timestamp_within_five_minutes_passes(api):
    assert send(api, timestamp=int(time.time()) - 280).status == 200


def test_replayed_nonce_is_refused(api):
    body = json.dumps(identity("flexible")).encode()
    signed = sign_request(api.secret, api.key_id, "POST", api.url(PATH), body)
    headers = {"Content-Type": "application/json", **signed}

    first = api.transport("POST", api.url(PATH), headers, body)
    replay = api.transport("POST", api.url(PATH), headers, body)

    assert (first.status, replay.status) == (200, 401)
    assert replay.json() == GENERIC_401
    assert last_call().detail == "nonce_reused"


def test_nonce_is_per_key(api, make_api):
    other = make_api(PaymentChannel.ALIPAY)

    assert send(api, nonce="same-nonce-123456").status == 200
    assert send(other, nonce="same-nonce-123456").status == 200


def test_purge_removes_only_expired_nonces(api):
    send(api)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        send(api)
        assert purge_nonces() == 1
    assert ApiNonce.objects.count() == 1


def test_unknown_key_is_refused(api):
    response = send(api, headers={"X-Channel-Key": "nobody_0123456789"})

    assert response.status == 401
    assert response.json() == GENERIC_401
    assert last_call().detail == "unknown_key"
    assert last_call().channel == ""


def test_disabled_channel_is_refused(api):
    ChannelCredential.objects.filter(pk=api.credential.pk).update(enabled=False)

    response = send(api)

    assert response.status == 401
    assert response.json() == GENERIC_401
    assert last_call().detail == "channel_disabled"


def test_missing_headers_are_refused(api):
    response = api.transport("POST", api.url(PATH), {"Content-Type": "application/json"}, b"{}")

    assert response.status == 401
    assert response.json() == GENERIC_401
    assert response.header("WWW-Authenticate")


def test_operation_not_allowed_is_403(make_api, seeded):
    api = make_api(PaymentChannel.ALIPAY, operations=[Operation.ENROLMENTS_QUERY])

    allowed = api.post(PATH, identity("flexible"))
    refused = api.post("bills/query", {**identity("flexible"), "payer_type": "resident", "year": 2025})

    assert allowed.status == 200
    assert refused.status == 403
    assert refused.json() == {"code": "forbidden", "message": "该渠道未开通此项业务"}


def test_mandates_and_certificates_are_for_suishenban_only(make_api, seeded):
    # Even if listed by mistake (the admin form refuses it), another channel cannot sign mandates.
    api = make_api(PaymentChannel.ALIPAY, operations=[Operation.MANDATES_QUERY])

    assert api.post("mandates/query", identity("flexible")).status == 403


def test_rate_limit_per_channel_is_429(make_api, seeded):
    api = make_api(PaymentChannel.WECHAT_ICBC, rate_limit=3)
    other = make_api(PaymentChannel.UNIONPAY_APP, rate_limit=3)

    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        statuses = [api.post(PATH, identity("flexible")).status for _ in range(4)]
        limited = api.post(PATH, identity("flexible"))
        assert other.post(PATH, identity("flexible")).status == 200

    assert statuses == [200, 200, 200, 429]
    assert limited.json() == {"code": "rate_limited", "message": "请求过于频繁，请稍后再试"}
    assert limited.header("Retry-After") == "55"


def test_rate_limit_window_is_one_minute(make_api, seeded):
    api = make_api(PaymentChannel.WECHAT_ICBC, rate_limit=1)
    start = timezone.now().replace(second=30)

    with time_machine.travel(start, tick=False):
        assert api.post(PATH, identity("flexible")).status == 200
        assert api.post(PATH, identity("flexible")).status == 429
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert api.post(PATH, identity("flexible")).status == 200
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        purge_expired()
    assert RateWindow.objects.count() == 0


def test_rotated_secret_keeps_the_old_one_for_a_day(api):
    old = api.secret
    new = credentials.rotate_secret(api.credential)

    assert send(api).status == 200  # still the old secret
    api.secret = new
    assert send(api).status == 200
    api.secret = old
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert send(api).status == 401


def test_secret_is_stored_encrypted(make_credential):
    credential, secret = make_credential(PaymentChannel.ALIPAY)

    stored = ChannelCredential.objects.get(pk=credential.pk)
    assert secret not in stored.secret_encrypted
    assert credentials.verification_secrets(stored, now=timezone.now()) == [secret]


def test_secret_encryption_key_from_settings(make_credential, settings):
    from cryptography.fernet import Fernet

    settings.CHANNEL_SECRET_KEY = Fernet.generate_key().decode()
    credential, secret = make_credential(PaymentChannel.ALIPAY)
    assert credentials.verification_secrets(credential, now=timezone.now()) == [secret]

    # Another key cannot read it: the request is refused (and the reason logged), not a server error.
    settings.CHANNEL_SECRET_KEY = Fernet.generate_key().decode()
    from channels_api import crypto

    with pytest.raises(crypto.SecretUnreadable):
        credentials.verification_secrets(credential, now=timezone.now())


def test_unknown_path_is_json_404(api):
    response = api.get("nothing/here")

    assert response.status == 404
    assert response.json()["code"] == "not_found"


def test_wrong_method_is_405_json(api):
    response = api.get(PATH)

    assert response.status == 405
    assert response.json()["code"] == "method_not_allowed"


def test_the_worked_example_in_the_docs():
    """docs/channels-api.md's example, computed by the server's code."""
    body = '{"name":"张灵活","id_type":"201","id_number":"310115199003150017"}'.encode()
    message = signing.string_to_sign(
        method="POST",
        path="/api/channels/v1/enrolments/query",
        query_string="",
        timestamp="1767225600",
        nonce="3f8a1c2e9b7d4f60a5e1c3b2d4f6a8e0",
        body=body,
    )

    signature = signing.signature("demo-secret-do-not-use", message)

    assert signature == "d0397ff2e3f30aecc73eafcdad5cfeb947d488cbde597a88faad8e8ccd860fbd"
    assert signature in Path(__file__).resolve().parents[2].joinpath("docs/channels-api.md").read_text()
