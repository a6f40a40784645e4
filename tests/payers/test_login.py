from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payers.models import User
from tests.helpers import PASSWORD, last_code, log_in, slider_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_sms_step(settings):
    settings.LOGIN_SMS_STEP_FOR_PHONE = False


@pytest.mark.parametrize(
    "login", ["xiaozhi", "XiaoZhi", "18012341234", "11010519491231002X", "11010519491231002x"]
)
def test_citizen_logs_in_with_username_phone_or_id_number(client, citizen, login):
    response = log_in(client, login)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(citizen.pk)


def test_wrong_password_is_refused_with_a_chinese_message(client, citizen):
    response = log_in(client, "xiaozhi", "Wrong@2026")

    assert response.status_code == 200
    assert "账号或密码错误" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_without_the_slider_check_is_refused_even_with_the_right_password(client, citizen):
    response = client.post(reverse("payers:login"), {"username": "xiaozhi", "password": PASSWORD})

    assert response.status_code == 200
    assert "请按住滑块，拖动到最右边完成验证" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_slider_pass_token_logs_in_once(client, citizen):
    token = slider_token(client)
    client.post(reverse("payers:login"), {"username": "xiaozhi", "password": PASSWORD, "slider": token})
    client.post(reverse("payers:logout"))

    response = client.post(
        reverse("payers:login"), {"username": "xiaozhi", "password": PASSWORD, "slider": token}
    )

    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_login_that_matches_two_accounts_logs_in_neither(client, citizen):
    # Another account whose username is this citizen's phone number: ambiguous, so refused.
    User.objects.create_user(username="18012341234", password=PASSWORD)

    log_in(client, "18012341234")

    assert "_auth_user_id" not in client.session


def test_session_id_rotates_on_login(client, citizen):
    token = slider_token(client)
    before = client.cookies["sessionid"].value

    client.post(reverse("payers:login"), {"username": "xiaozhi", "password": PASSWORD, "slider": token})

    assert client.cookies["sessionid"].value != before


def test_five_failures_lock_the_account_for_fifteen_minutes(client, citizen):
    for _ in range(5):
        log_in(client, "xiaozhi", "Wrong@2026")

    # Right password, other name for the same account: still locked.
    response = log_in(client, "18012341234")

    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        client.cookies.clear()
        response = log_in(client, "xiaozhi")
    assert response.status_code == 302


def test_five_failures_from_one_address_lock_that_address(client, citizen, django_user_model):
    for number in range(5):
        log_in(client, f"nobody{number}", "Wrong@2026")

    response = log_in(client, "xiaozhi")

    assert response.status_code == 429


def test_phone_login_adds_an_sms_code_step(client, citizen, settings):
    settings.LOGIN_SMS_STEP_FOR_PHONE = True

    response = log_in(client, "18012341234", next="/contributions/pay/")

    assert response.status_code == 302
    assert response["Location"] == reverse("payers:login_sms")
    assert "_auth_user_id" not in client.session
    page = client.get(reverse("payers:login_sms")).content.decode()
    assert "180****1234" in page and "18012341234" not in page

    wrong = client.post(
        reverse("payers:login_sms"), {"code": "000000" if last_code("18012341234") != "000000" else "111111"}
    )
    assert "验证码错误" in wrong.content.decode()

    response = client.post(reverse("payers:login_sms"), {"code": last_code("18012341234")})
    assert response.status_code == 302
    assert response["Location"] == "/contributions/pay/"
    assert client.session["_auth_user_id"] == str(citizen.pk)


def test_username_login_needs_no_sms_step(client, citizen, settings):
    settings.LOGIN_SMS_STEP_FOR_PHONE = True

    log_in(client, "xiaozhi")

    assert client.session["_auth_user_id"] == str(citizen.pk)


def test_behind_a_proxy_the_lockout_counts_the_client_address_not_the_proxys(client, citizen, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The attacker varies a forged first hop; the proxy appends the real address.
    attacker = {"HTTP_X_FORWARDED_FOR": "10.9.9.9, 61.129.7.20"}
    for number in range(5):
        data = {"username": f"nobody{number}", "password": "Wrong@2026", "slider": slider_token(client)}
        client.post(reverse("payers:login"), data, HTTP_X_FORWARDED_FOR=f"10.9.9.{number}, 61.129.7.20")
    data = {"username": "xiaozhi", "password": PASSWORD, "slider": slider_token(client)}
    assert client.post(reverse("payers:login"), data, **attacker).status_code == 429

    other = Client(HTTP_X_FORWARDED_FOR="58.246.3.9")
    response = log_in(other, "xiaozhi")

    assert response.status_code == 302
