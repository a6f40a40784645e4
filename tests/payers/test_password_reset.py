"""SPEC rule 13: 找回密码 by SMS code after 姓名 + 证件类型 + 证件号码, without revealing who has an account."""

import pytest
from django.urls import reverse

from payers.models import SmsMessage
from tests.helpers import PASSWORD, last_code

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Xinmima#2026"
KNOWN = {"name": "王小枝", "id_type": "201", "id_number": "11010519491231002X"}
UNKNOWN = {"name": "李不在", "id_type": "201", "id_number": "310115199003150017"}


def ask(client, identity):
    return client.post(reverse("payers:password_reset"), identity, follow=True)


def confirm(client, code, password=NEW_PASSWORD):
    data = {"code": code, "password1": password, "password2": password}
    return client.post(reverse("payers:password_reset_confirm"), data)


def test_password_is_reset_with_the_code_sent_to_the_registered_phone(client, citizen):
    ask(client, KNOWN)

    response = confirm(client, last_code(citizen.phone))

    assert response["Location"] == reverse("payers:login")
    citizen.refresh_from_db()
    assert citizen.check_password(NEW_PASSWORD)


def test_the_owner_is_told_by_sms_that_the_password_changed(client, citizen):
    ask(client, KNOWN)
    confirm(client, last_code(citizen.phone))

    assert "密码已重置" in SmsMessage.objects.filter(phone=citizen.phone).latest("id").body


def test_the_same_answer_whether_or_not_the_account_exists(client, citizen):
    known = ask(client, KNOWN)
    client.session.flush()
    unknown = ask(client, UNKNOWN)

    def visible(response):
        return response.content.decode().replace(response.wsgi_request.META.get("CSRF_COOKIE", ""), "")

    assert known.redirect_chain == unknown.redirect_chain
    assert "如果您填写的信息与注册信息一致" in visible(unknown)
    assert confirm(client, "123456").content.decode().count("验证码错误或已失效") == 1
    assert SmsMessage.objects.count() == 1


def test_a_wrong_code_does_not_reset(client, citizen):
    ask(client, KNOWN)
    code = last_code(citizen.phone)

    response = confirm(client, f"{(int(code) + 1) % 10**6:06d}")

    assert "验证码错误" in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.check_password(PASSWORD)


def test_a_login_code_is_refused_by_the_reset_flow(client, citizen):
    from payers import verification
    from payers.models import CodePurpose

    verification.send_code(phone=citizen.phone, purpose=CodePurpose.LOGIN)
    login_code = last_code(citizen.phone)
    ask(client, KNOWN)  # the reset code is a new message; use the login one
    response = confirm(client, login_code) if login_code != last_code(citizen.phone) else None

    citizen.refresh_from_db()
    assert citizen.check_password(PASSWORD)
    if response is not None:
        assert "验证码错误" in response.content.decode()


def test_the_new_password_follows_rule_13(client, citizen):
    ask(client, KNOWN)

    response = confirm(client, last_code(citizen.phone), password="password")

    assert "三种及以上组合" in response.content.decode()
