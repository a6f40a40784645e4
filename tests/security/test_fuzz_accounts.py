"""
Issue 10, item 3 — hostile input to the account forms and the sandbox cashier, through the test client:
登录, 注册码注册, 找回密码 (both steps), the account step of registration (用户名/密码/手机号码/验证码) and
the UnionPay sandbox's 银行卡号.

As in test_fuzz_forms.py: a page, never a 500; every refusal explained in Chinese; no injected markup
echoed; no row written — except, where a real phone number reaches it, the SMS code and its message.
"""

import pytest
from axes.utils import reset as reset_lockouts
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from contributions.models import PaymentChannel
from payers import services
from payers.models import User
from portal import demo
from tests.helpers import PASSWORD, slider_token
from tests.security.conftest import demo_person
from tests.security.fuzzing import (
    CJK,
    FUZZ,
    PEOPLE,
    assert_answered_safely,
    assert_not_echoed,
    captcha,
    field,
    form_errors,
    hostile,
    identity,
    row_counts,
)
from unionpay_sandbox.models import SandboxOrder

pytestmark = pytest.mark.django_db

SMS_TABLES = {"payers.VerificationCode", "payers.SmsMessage"}
REGISTERED = next(p for p in PEOPLE if p.username)
UNREGISTERED = next(p for p in PEOPLE if p.key == "unregistered")


def without_sms(counts):
    return {label: count for label, count in counts.items() if label not in SMS_TABLES}


# 登录 -----------------------------------------------------------------------------------------------

LOGIN = st.fixed_dictionaries(
    {
        "username": field(st.sampled_from([REGISTERED.username, REGISTERED.phone, REGISTERED.id_number])),
        "password": field(st.just(PASSWORD)),
        "slider": st.one_of(st.just("pass"), hostile),  # "pass": a token from a passed slider check
    }
)


@FUZZ
@given(data=LOGIN)
def test_login_survives_hostile_input(client, seeded, data):
    reset_lockouts()  # five failures lock the address: without this most examples would only meet 429
    client.logout()
    if data["slider"] == "pass":
        data = {**data, "slider": slider_token(client)}
    before = row_counts()

    response = client.post(reverse("payers:login"), data)

    if response.status_code == 302:  # the real account: logged in, or on to the SMS step
        assert data["password"] == PASSWORD
        assert without_sms(row_counts()) == without_sms(before)
        return
    assert_answered_safely(response, data, before)


# 注册码注册 -----------------------------------------------------------------------------------------


@pytest.fixture
def registration_code(seeded):
    staff = User.objects.get(username=demo.STAFF_USERNAME)
    return services.issue_registration_code(person=demo_person("unregistered"), issued_by=staff)


@FUZZ
@given(
    data=identity(registration_code=field(st.just("REAL"))),
)
@example(
    data={
        "name": UNREGISTERED.name,
        "id_type": "201",
        "id_number": UNREGISTERED.id_number,
        "registration_code": "REAL",
    }
)
def test_registration_with_a_code_survives_hostile_input(client, registration_code, data):
    if data["registration_code"] == "REAL":
        data = {**data, "registration_code": registration_code}
    before = row_counts()

    response = client.post(reverse("payers:register_code"), {**data, **captcha()})

    assert response.status_code in {200, 302}
    assert row_counts() == before  # nothing is saved before the account step
    if response.status_code == 302:
        assert response["Location"] == reverse("payers:register_account")
        return
    errors = form_errors(response)
    assert errors and all(CJK.search(message) for message in errors), errors
    assert_not_echoed(response, data)


# The account step of registration ----------------------------------------------------------------

ACCOUNT = st.fixed_dictionaries(
    {
        "username": field(st.sampled_from(["chenzc", "zhangsan_2026"])),
        "password1": field(st.just(PASSWORD)),
        "password2": field(st.just(PASSWORD)),
        "phone": field(st.sampled_from(["13912345678", REGISTERED.phone])),
        "code": field(st.sampled_from(["123456", "000000"])),
        "action": st.sampled_from(["register", "send_code"]),
    }
)


@pytest.fixture
def registering(client, registration_code):
    """A browser at the account step, its identity checked with a 注册码."""
    data = {
        "name": UNREGISTERED.name,
        "id_type": "201",
        "id_number": UNREGISTERED.id_number,
        "registration_code": registration_code,
    }
    response = client.post(reverse("payers:register_code"), {**data, **captcha()})
    assert response["Location"] == reverse("payers:register_account")
    return client


@FUZZ
@given(data=ACCOUNT)
def test_the_account_step_survives_hostile_input(registering, data):
    before = row_counts()

    response = registering.post(reverse("payers:register_account"), data)

    assert response.status_code == 200, response.status_code  # no account without the SMS code
    assert without_sms(row_counts()) == without_sms(before)
    assert not User.objects.filter(person=demo_person("unregistered")).exists()
    if data["action"] == "register":
        errors = form_errors(response)
        assert errors and all(CJK.search(message) for message in errors), errors
    else:  # 获取验证码: sent, or a message saying why not
        shown = [str(message) for message in response.context["messages"]]
        assert all(CJK.search(message) for message in shown), shown
    assert_not_echoed(response, data)


# 找回密码 -------------------------------------------------------------------------------------------


@FUZZ
@given(data=identity())
def test_password_reset_step_1_survives_hostile_input(client, seeded, data):
    before = row_counts()

    response = client.post(reverse("payers:password_reset"), data)

    # The same answer whether or not an account matches; a match sends the code (and only that).
    assert response.status_code in {200, 302}
    assert without_sms(row_counts()) == without_sms(before)
    if response.status_code == 302:
        assert response["Location"] == reverse("payers:password_reset_confirm")
        return
    errors = form_errors(response)
    assert errors and all(CJK.search(message) for message in errors), errors
    assert_not_echoed(response, data)


RESET = st.fixed_dictionaries(
    {
        "code": field(st.sampled_from(["123456", "000000"])),
        "password1": field(st.just("Xinmima@2026")),
        "password2": field(st.just("Xinmima@2026")),
    }
)


@FUZZ
@given(data=RESET)
def test_password_reset_step_2_survives_hostile_input(client, seeded, data):
    person = demo_person(REGISTERED.key)
    identity_of = {"name": person.name, "id_type": person.id_type, "id_number": person.id_number}
    assert client.post(reverse("payers:password_reset"), identity_of).status_code == 302
    before = row_counts()

    response = client.post(reverse("payers:password_reset_confirm"), data)

    assert_answered_safely(response, data, before)
    assert User.objects.get(person=person).check_password(PASSWORD), "the password is unchanged"


# The sandbox cashier --------------------------------------------------------------------------------

VALID_CARD = "6222021234567890128"


@pytest.fixture
def order(seeded, monkeypatch):
    from contributions import services as payments
    from tests.contributions.conftest import daily_notices, open_gateway_order

    monkeypatch.setattr("contributions.calendar.is_auto_debit_day", lambda day: False)
    person = demo_person("flexible")
    payment = payments.start_payment(
        person=person, notice_numbers=daily_notices(person), method="card", channel=PaymentChannel.PORTAL
    )
    return open_gateway_order(payment)


@FUZZ
@given(
    data=st.fixed_dictionaries(
        {"card_number": field(st.just(VALID_CARD)), "action": st.sampled_from(["pay", "cancel", ""])}
    )
)
# Unicode digits: str.isdigit() accepts them, int() does not (a 500 in luhn_ok once).
@example(data={"card_number": "²" * 16, "action": "pay"})
@example(data={"card_number": "６２２２０２１２３４５６７８９０１２８", "action": "pay"})
@example(data={"card_number": "٦٢٢٢٠٢١٢٣٤٥٦٧٨٩٠١٢٨", "action": "pay"})
def test_the_sandbox_cashier_survives_hostile_input(client, order, data):
    SandboxOrder.objects.update(status=SandboxOrder.Status.PENDING, paid_at=None, card_last4="")
    before = row_counts()

    response = client.post(order, data)

    assert response.status_code in {200, 302}, response.status_code
    assert row_counts() == before
    paid = SandboxOrder.objects.get().status == SandboxOrder.Status.PAID
    if response.status_code == 302:
        assert data["action"] == "cancel" or (paid and data["card_number"].replace(" ", "") == VALID_CARD)
        return
    assert not paid
    errors = form_errors(response)
    assert errors and all(CJK.search(message) for message in errors), errors
    assert_not_echoed(response, data)
