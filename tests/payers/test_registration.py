"""SPEC rule 12: online registration and registration with a 注册码, against the real-name registry."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from payers import services
from payers.models import Person, RegistrationCode, SmsMessage, User
from tests.helpers import PASSWORD, last_code, solve_captcha

pytestmark = pytest.mark.django_db
PHONE = "13912345678"
IDENTITY = {"name": "陈注册", "id_type": "201", "id_number": "310106199509180057"}


@pytest.fixture
def person():
    return Person.objects.create(**IDENTITY, phone="")


def agree(client):
    return client.post(reverse("payers:register_agreement"), {"agree_terms": "on", "agree_privacy": "on"})


def verify_identity(client, **overrides):
    url = reverse("payers:register_identity")
    return client.post(url, {**IDENTITY, **solve_captcha(client, url), **overrides})


def account_data(**overrides):
    return {"username": "chenzc", "password1": PASSWORD, "password2": PASSWORD, "phone": PHONE, **overrides}


def request_code(client, phone=PHONE):
    return client.post(
        reverse("payers:register_account"), {**account_data(phone=phone), "action": "send_code"}
    )


def finish(client, **overrides):
    data = {**account_data(), "code": last_code(PHONE), "action": "register", **overrides}
    return client.post(reverse("payers:register_account"), data)


def test_both_agreements_exist_as_pages(client):
    for name, title in (("payers:terms", "用户服务协议"), ("payers:privacy", "个人信息保护告知同意书")):
        page = client.get(reverse(name)).content.decode()
        assert title in page
        assert len(re.sub(r"<[^>]+>|\s", "", page)) > 1200


def test_online_registration_end_to_end(client, person):
    assert agree(client).status_code == 302
    assert verify_identity(client)["Location"] == reverse("payers:register_account")
    page = client.get(reverse("payers:register_account")).content.decode()
    assert "**册" in page and "陈注册" not in page

    request_code(client)
    response = finish(client)

    assert response["Location"] == reverse("payers:register_done")
    user = User.objects.get(username="chenzc")
    assert user.person == person and user.phone == PHONE
    assert client.session["_auth_user_id"] == str(user.pk)
    assert "注册成功" in client.get(response["Location"]).content.decode()


def test_agreement_must_be_accepted_first(client, person):
    response = client.post(reverse("payers:register_agreement"), {"agree_terms": "on"})

    assert "请阅读并同意《个人信息保护告知同意书》" in response.content.decode()
    assert client.get(reverse("payers:register_identity"))["Location"] == reverse("payers:register_agreement")


@pytest.mark.parametrize(
    "overrides",
    [{"name": "陈注"}, {"id_number": "310104198506220028"}, {"id_type": "516", "id_number": "H12345678"}],
)
def test_identity_must_match_the_registry(client, person, overrides):
    agree(client)

    response = verify_identity(client, **overrides)

    assert response.status_code == 200
    assert "与实名信息库不一致" in response.content.decode()


def test_malformed_id_number_is_refused_before_the_registry(client, person):
    agree(client)

    response = verify_identity(client, id_number="310106199509180058")

    assert "校验位不正确" in response.content.decode()


def test_wrong_captcha_is_refused(client, person):
    agree(client)

    response = verify_identity(client, captcha_1="WRONG1")

    assert "图片验证码错误" in response.content.decode()


def test_one_person_has_at_most_one_account(client, person):
    User.objects.create_user(username="first", password=PASSWORD, person=person)
    agree(client)

    response = verify_identity(client)

    assert "该证件已注册账户" in response.content.decode()


def test_account_step_needs_the_identity_step(client):
    assert client.get(reverse("payers:register_account"))["Location"] == reverse("payers:register")


def test_the_sms_code_is_required_and_checked(client, person):
    agree(client)
    verify_identity(client)
    request_code(client)
    code = last_code(PHONE)

    response = finish(client, code=f"{(int(code) + 1) % 10**6:06d}")

    assert "验证码错误" in response.content.decode()
    assert not User.objects.filter(username="chenzc").exists()


def test_sms_code_step_shows_the_masked_phone_and_refuses_a_quick_resend(client, person):
    agree(client)
    verify_identity(client)

    first = request_code(client).content.decode()
    second = request_code(client).content.decode()

    assert "验证码已发送至139****5678" in first
    assert "秒后再重新获取" in second
    assert SmsMessage.objects.filter(phone=PHONE).count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"username": "13912345678"}, "以字母开头"),
        ({"username": "ab"}, "以字母开头"),
        ({"password1": "shebao2026", "password2": "shebao2026"}, "三种及以上组合"),
        ({"password2": "Shebao@2027"}, "两次输入的密码不一致"),
        ({"phone": "1391234567"}, "请输入11位手机号码"),
    ],
)
def test_account_fields_are_validated_in_chinese(client, person, overrides, message):
    agree(client)
    verify_identity(client)
    request_code(client)

    response = finish(client, **overrides)

    assert message in response.content.decode()
    assert not User.objects.filter(person=person).exists()


def test_username_and_phone_must_be_free(client, person):
    User.objects.create_user(username="ChenZC", password=PASSWORD, phone="13800000009")
    agree(client)
    verify_identity(client)
    request_code(client)

    page = finish(client).content.decode()
    assert "该用户名已被使用" in page

    page = finish(client, username="chenzc2", phone="13800000009").content.decode()
    assert "该手机号码已绑定其他账户" in page


def test_registration_with_a_code_issued_at_the_tax_hall(client, person, admin_user):
    code = services.issue_registration_code(person=person, issued_by=admin_user)
    data = {
        **IDENTITY,
        "registration_code": code.lower(),
        **solve_captcha(client, reverse("payers:register_code")),
    }

    response = client.post(reverse("payers:register_code"), data)
    assert response["Location"] == reverse("payers:register_account")
    request_code(client)
    finish(client)

    assert User.objects.get(username="chenzc").person == person
    assert RegistrationCode.objects.get().used_at is not None


def test_a_registration_code_is_stored_hashed_single_use_and_expires(client, person, admin_user):
    code = services.issue_registration_code(person=person, issued_by=admin_user)
    stored = RegistrationCode.objects.get()
    assert code.replace("-", "") not in stored.code_hash

    url = reverse("payers:register_code")
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        data = {**IDENTITY, "registration_code": code, **solve_captcha(client, url)}
        assert "注册码无效或已过期" in client.post(url, data).content.decode()

    stored.used_at = timezone.now()
    stored.save()
    data = {**IDENTITY, "registration_code": code, **solve_captcha(client, url)}
    assert "注册码无效或已过期" in client.post(url, data).content.decode()


def test_a_wrong_registration_code_is_refused(client, person, admin_user):
    services.issue_registration_code(person=person, issued_by=admin_user)
    data = {
        **IDENTITY,
        "registration_code": "AAAA-AAAA",
        **solve_captcha(client, reverse("payers:register_code")),
    }

    response = client.post(reverse("payers:register_code"), data)

    assert "注册码无效或已过期" in response.content.decode()


def test_staff_issue_a_registration_code_in_admin_and_see_it_once(admin_client, person):
    response = admin_client.post(
        reverse("admin:payers_person_changelist"),
        {"action": "issue_registration_code", "_selected_action": [person.pk]},
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert any("的注册码：" in message for message in shown)
    code = re.search(r"注册码：([A-Z0-9]{4}-[A-Z0-9]{4})", shown[0]).group(1)
    assert services.find_registration_code(person=person, code=code)
    listing = admin_client.get(reverse("admin:payers_registrationcode_changelist")).content.decode()
    assert code not in listing
