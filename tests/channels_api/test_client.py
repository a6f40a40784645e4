"""The reference client scripts/channel_client.py: over a real socket, and its command line."""

import io
import json
import secrets

import pytest
from channel_client import ChannelClient, main
from django.core.management import call_command

from channels_api import credentials
from contributions.models import Bill, PaymentChannel
from tests.channels_api.conftest import django_transport, identity

ID_ARGS = ["--name", "张灵活", "--id-type", "201", "--id-number", identity("flexible")["id_number"]]


@pytest.mark.django_db(transaction=True)
def test_client_over_http_with_urllib(live_server, make_credential, not_auto_debit_day):
    call_command("seed_demo", stdout=io.StringIO())
    credential, secret = make_credential(PaymentChannel.ALIPAY)
    client = ChannelClient(f"{live_server.url}/api/channels/v1/", credential.key_id, secret)

    enrolments = client.post("enrolments/query", identity("flexible"))
    refused = ChannelClient(f"{live_server.url}/api/channels/v1", credential.key_id, "wrong").get(
        "orders/SB1"
    )

    assert enrolments.status == 200 and enrolments.ok
    assert len(enrolments.json()["enrolments"]) == 2
    assert refused.status == 401 and refused.json()["code"] == "unauthorized"


@pytest.mark.django_db
def test_command_line(client, make_credential, seeded, not_auto_debit_day, tmp_path):
    credential, secret = make_credential(PaymentChannel.SUISHENBAN)
    common = [
        "--base-url",
        "http://testserver/api/channels/v1/",
        "--key",
        credential.key_id,
        f"--secret={secret}",
    ]
    transport = django_transport(client)

    def run(*args):
        out = io.StringIO()
        code = main([*common, *args], transport=transport, stdout=out)
        return code, out.getvalue()

    code, out = run("enrolments", *ID_ARGS)
    assert code == 0 and "灵活就业人员基本养老保险" in out

    code, out = run("bills", *ID_ARGS, "--payer-type", "flexible", "--from", "2020-01", "--to", "2020-02")
    assert code == 1 and json.loads(out)["code"] == "no_payable_bills"

    code, out = run("mandate", *ID_ARGS)
    assert code == 0 and json.loads(out)["mandate"] is None

    code, out = run("order", "SB404")
    assert code == 1 and json.loads(out)["code"] == "order_not_found"

    notice = Bill.objects.filter(kind="daily", enrolment__person__name="张灵活").first().notice_number
    code, out = run("create-order", *ID_ARGS, "--notice", notice, "--pay-method", "unionpay")
    order = json.loads(out)
    assert code == 0 and order["status"] == "pending" and order["pay_method"] == "unionpay"

    code, out = run("payment-result", order["order_number"], "--amount", order["amount"], "--trade-no", "UP1")
    assert code == 0 and json.loads(out)["status"] == "succeeded"


@pytest.mark.django_db
def test_command_line_takes_a_secret_that_begins_with_a_dash(
    client, make_credential, seeded, monkeypatch, capsys
):
    """A secret is url-safe base64, so one in 64 begins with "-", which argparse would take for an option."""
    monkeypatch.setattr(credentials, "new_secret", lambda: "-" + secrets.token_urlsafe(32))
    credential, secret = make_credential(PaymentChannel.SUISHENBAN)
    common = ["--base-url", "http://testserver/api/channels/v1/", "--key", credential.key_id]
    transport = django_transport(client)

    def run(*args):
        out = io.StringIO()
        return main([*common, *args, "enrolments", *ID_ARGS], transport=transport, stdout=out), out.getvalue()

    code, out = run(f"--secret={secret}")
    assert code == 0 and "灵活就业人员基本养老保险" in out

    monkeypatch.setenv("CHANNEL_SECRET", secret)
    code, out = run()
    assert code == 0 and "灵活就业人员基本养老保险" in out

    monkeypatch.delenv("CHANNEL_SECRET")
    with pytest.raises(SystemExit) as exited:
        run()
    assert exited.value.code == 2 and "缺少密钥" in capsys.readouterr().err
