"""修改手机号码: current password + an SMS code sent to the new number; both numbers are told."""

import pytest
from django.urls import reverse

from payers import services, verification
from payers.models import CodePurpose, SmsMessage, User
from tests.helpers import PASSWORD, last_code

pytestmark = pytest.mark.django_db
OLD, NEW = "18012341234", "13912345678"
URL = reverse("payers:change_phone")


@pytest.fixture
def signed_in(client, citizen):
    client.force_login(citizen)
    return client


def send_code(client, phone=NEW):
    return client.post(URL, {"action": "send_code", "phone": phone}, follow=True)


def change(client, code, password=PASSWORD, phone=NEW):
    return client.post(URL, {"action": "change", "current_password": password, "phone": phone, "code": code})


def test_phone_change_with_password_and_a_code_sent_to_the_new_number(signed_in, citizen):
    page = send_code(signed_in).content.decode()
    assert "验证码已发送至139****5678" in page
    assert SmsMessage.objects.get(phone=NEW).purpose == CodePurpose.CHANGE_PHONE

    response = change(signed_in, last_code(NEW))

    assert response["Location"] == reverse("payers:account")
    citizen.refresh_from_db()
    assert citizen.phone == NEW and citizen.person.phone == NEW
    notice = SmsMessage.objects.filter(phone=OLD).latest("id").body
    assert "绑定手机号码" in notice and "变更为139****5678" in notice and "12366" in notice
    assert "变更为本号码" in SmsMessage.objects.filter(phone=NEW).latest("id").body
    # The session goes on: no new login needed.
    account = signed_in.get(reverse("payers:account"))
    assert account.status_code == 200 and "139****5678" in account.content.decode()


def test_the_new_number_logs_in_and_the_old_one_no_longer_does(signed_in, citizen, client):
    send_code(signed_in)
    change(signed_in, last_code(NEW))

    assert User.objects.filter(phone=NEW).get() == citizen
    assert not User.objects.filter(phone=OLD).exists()


def test_a_code_sent_for_login_is_refused(signed_in, citizen):
    verification.send_code(phone=NEW, purpose=CodePurpose.LOGIN)

    response = change(signed_in, last_code(NEW))

    assert response.status_code == 200
    assert "验证码已失效，请重新获取" in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.phone == OLD
    assert not SmsMessage.objects.filter(phone=OLD).exists()


def test_a_code_sent_to_another_number_is_refused(signed_in, citizen):
    send_code(signed_in, phone="13912340000")

    response = change(signed_in, last_code("13912340000"))

    assert "验证码已失效" in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.phone == OLD


def test_a_wrong_password_is_refused_and_the_code_stays_usable(signed_in, citizen):
    send_code(signed_in)
    code = last_code(NEW)

    response = change(signed_in, code, password="Wrong@2026")

    assert "当前登录密码错误" in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.phone == OLD
    assert change(signed_in, code).status_code == 302


def test_five_wrong_passwords_end_the_session(signed_in, citizen):
    for _ in range(4):
        assert change(signed_in, "123456", password="Wrong@2026").status_code == 200

    response = change(signed_in, "123456", password="Wrong@2026")

    assert response["Location"] == reverse("payers:login")
    assert signed_in.get(reverse("payers:account")).status_code == 302


def test_a_number_bound_to_another_account_is_refused_in_chinese(signed_in, citizen):
    User.objects.create_user(username="other", password=PASSWORD, phone=NEW)

    page = send_code(signed_in).content.decode()
    response = change(signed_in, "123456")

    assert "该手机号码已绑定其他账户，请更换" in page
    assert not SmsMessage.objects.filter(phone=NEW).exists()
    assert "该手机号码已绑定其他账户，请更换" in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.phone == OLD


def test_the_service_refuses_a_number_taken_meanwhile(citizen):
    User.objects.create_user(username="other", password=PASSWORD, phone=NEW)

    with pytest.raises(services.PhoneChangeError, match="已绑定其他账户"):
        services.change_phone(user=citizen, new_phone=NEW)


@pytest.mark.parametrize(
    ("phone", "message"),
    [("1391234567", "请输入11位手机号码"), ("10012345678", "手机号码无效，请核对"), (OLD, "相同")],
)
def test_the_new_number_is_validated_like_registration(signed_in, phone, message):
    page = send_code(signed_in, phone=phone).content.decode()

    assert message in page
    assert not SmsMessage.objects.exists()


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)

    assert response.status_code == 302 and response["Location"].startswith(reverse("payers:login"))


def test_the_user_menu_links_to_the_account_page(signed_in):
    page = signed_in.get(reverse("home")).content.decode()

    assert reverse("payers:account") in page and "个人中心" in page
    account = signed_in.get(reverse("payers:account")).content.decode()
    assert reverse("payers:change_phone") in account and reverse("payers:my_data") in account
    assert "180****1234" in account and "王小枝" not in account
