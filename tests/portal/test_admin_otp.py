"""
Issue 10 — the staff admin asks for a second factor: 用户名 + 密码 + the 6-digit 动态验证码 of the staff
member's authenticator app (django-otp TOTP). Each test fails if the admin site stops requiring a
verified session (portal.admin_site.StaffAdminSite back to a plain AdminSite).
"""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from payers.models import User
from portal import demo, totp
from tests.helpers import current_totp_code, log_in, log_in_staff

pytestmark = pytest.mark.django_db
PASSWORD = "Staff@2026!"


@pytest.fixture
def staff(db):
    user = User.objects.create_user("clerk", password=PASSWORD, is_staff=True, is_superuser=True)
    totp.enrol(user)
    return user


def admin_login(client, code, *, username="clerk", password=PASSWORD):
    data = {"username": username, "password": password, "next": "/admin/"}
    if code is not None:
        data["otp_token"] = code
    return client.post(reverse("admin:login"), data)


def reaches_admin(client):
    response = client.get(reverse("admin:payers_person_changelist"))
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("admin:login"))
        return False
    return response.status_code == 200


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_the_admin_login_asks_for_the_code_in_chinese(client):
    page = client.get(reverse("admin:login")).content.decode()

    for label in ("用户名", "密码", "动态验证码"):
        assert re.search(rf"<label[^>]*>{label}[:：]?</label>", page), label
    assert 'name="otp_token"' in page and 'autocomplete="one-time-code"' in page


def test_a_right_password_without_the_code_does_not_get_in(client, staff):
    response = admin_login(client, None)

    assert response.status_code == 200
    assert "请输入身份验证器中的6位动态验证码" in response.content.decode()
    assert not reaches_admin(client)


def test_a_wrong_code_does_not_get_in(client, staff):
    response = admin_login(client, wrong(current_totp_code(staff)))

    assert "动态验证码错误" in response.content.decode()
    assert not reaches_admin(client)


def test_staff_without_a_device_cannot_log_in(client, staff):
    TOTPDevice.objects.filter(user=staff).delete()

    response = admin_login(client, "123456")

    assert "尚未绑定身份验证器" in response.content.decode()
    assert not reaches_admin(client)


def test_the_right_code_gets_in(client, staff):
    response = admin_login(client, current_totp_code(staff))

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert reaches_admin(client)


def test_a_code_is_accepted_once(staff):
    code = current_totp_code(staff)
    first, second = Client(), Client()

    assert admin_login(first, code).status_code == 302
    refused = admin_login(second, code)  # an onlooker replays it within the same 30 seconds

    assert "动态验证码错误或已使用" in refused.content.decode()
    assert reaches_admin(first) and not reaches_admin(second)


def test_a_staff_session_from_the_citizen_login_is_sent_to_the_admin_login(client, staff):
    log_in(client, "clerk", PASSWORD)  # the portal's own login: password (and slider) only
    assert client.session.get("_auth_user_id") == str(staff.pk)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    login_page = client.get(response["Location"]).content.decode()
    assert "动态验证码" in login_page


def test_a_logged_in_staff_session_without_a_verified_device_is_refused(client, staff):
    client.force_login(staff)  # logged in, never verified

    assert not reaches_admin(client)
    assert reaches_admin(log_in_staff(Client(), staff))  # the control: the same user, verified


def test_the_device_admin_is_for_superusers_only(staff):
    clerk = User.objects.create_user("counter", password=PASSWORD, is_staff=True)
    url = reverse("admin:otp_totp_totpdevice_changelist")

    assert log_in_staff(Client(), clerk).get(url).status_code == 403
    assert log_in_staff(Client(), staff).get(url).status_code == 200


def test_staff_totp_enrols_a_new_device_and_prints_its_uri_and_qr(staff):
    old = TOTPDevice.objects.get(user=staff)
    out = io.StringIO()

    call_command("staff_totp", "clerk", stdout=out)

    printed = out.getvalue()
    device = TOTPDevice.objects.get(user=staff)  # the old device is gone: one device per staff user
    assert device.confirmed and (device.pk, device.key) != (old.pk, old.key)
    assert re.search(r"otpauth://totp/.*clerk\?secret=" + totp.base32_key(device), printed)
    assert "█" in printed or "▀" in printed  # the QR code, drawn in the terminal


def test_staff_totp_refuses_a_citizen_account(db):
    User.objects.create_user("citizen", password=PASSWORD)

    with pytest.raises(CommandError):
        call_command("staff_totp", "citizen", stdout=io.StringIO())
    assert not TOTPDevice.objects.exists()


def test_the_current_code_is_printed_only_for_the_demo_key_or_in_development(settings, staff):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("staff_totp", "clerk", "--code", stdout=io.StringIO())

    totp.enrol(staff, key=demo.DEMO_STAFF_TOTP_KEY)
    out = io.StringIO()
    call_command("staff_totp", "clerk", "--code", stdout=out)
    assert out.getvalue().strip() == current_totp_code(staff)

    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("staff_totp", "clerk", "--code", stdout=io.StringIO())


def test_the_public_demo_key_is_no_second_factor_in_production(settings, client, staff):
    totp.enrol(staff, key=demo.DEMO_STAFF_TOTP_KEY)
    settings.PRODUCTION = True

    response = admin_login(client, current_totp_code(staff))

    assert response.status_code == 200
    assert not reaches_admin(client)


def test_seed_demo_gives_the_demo_staff_the_documented_key(db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    device = TOTPDevice.objects.get(user__username=demo.STAFF_USERNAME)
    assert device.key == demo.DEMO_STAFF_TOTP_KEY and device.confirmed
    assert f"staff_totp --code {demo.STAFF_USERNAME}" in out.getvalue()
    assert totp.base32_key(device) in out.getvalue()
