"""
Accounts in the browser: 在线注册 of a registry person, logging out and in again, 找回密码, and the SMS
code step of a login by phone number — at desktop and phone widths.
"""

import re

import pytest
from playwright.sync_api import expect

from portal.demo import PEOPLE
from tests.e2e.conftest import VIEWPORTS
from tests.e2e.helpers import (
    captcha_answer,
    log_in,
    log_out,
    reduce_motion,
    reveal_navigation,
    sms_code,
    submit_login,
)

NEWCOMER = next(person for person in PEOPLE if person.username is None)  # 陈注册, in the registry only
FLEXIBLE = next(person for person in PEOPLE if person.username == "linghuo")
USERNAME = "chenzc"
PASSWORD = "Qz7#kLm2026"  # 8-16 characters: digits, upper and lower case, a special
NEW_PASSWORD = "Rt5!wKp9Lmn"
PHONE = "13912345678"  # no demo person has it
DESKTOP = next(viewport for viewport in VIEWPORTS if viewport.id == "desktop")


@pytest.fixture
def page(page):
    """The conftest's page, without Bootstrap's transitions (the phone's navigation opens at once)."""
    reduce_motion(page)
    return page


def masked_name_in_header(page, masked):
    name = page.get_by_role("banner").get_by_text(masked)
    if not name.is_visible():
        reveal_navigation(page)
    expect(name).to_be_visible()


def field(page, label):
    """An input by its label, exactly (crispy adds "*" to required ones), so 密码 is not 确认密码."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def captcha_input(page):
    # The answer box has no label of its own (see test_image_captcha_answer_box_has_a_label): find it
    # in the fieldset whose legend is 图片验证码.
    return page.get_by_role("group", name="图片验证码").get_by_role("textbox")


def test_register_log_out_log_in_and_reset_the_password(seeded, page, shot):
    # 用户注册 → 在线注册 → step 1: both agreements.
    page.goto("/accounts/register/")
    page.get_by_role("link", name="在线注册").click()
    expect(page.get_by_role("heading", name="在线注册")).to_be_visible()
    page.get_by_label("我已阅读并同意《用户服务协议》").check()
    page.get_by_label("我已阅读并同意《个人信息保护告知同意书》").check()
    shot(page, "register-agreement")
    page.get_by_role("button", name="同意并继续").click()

    # Step 2: the identity, matched against the registry, and the image captcha.
    expect(page).to_have_url("/accounts/register/online/identity/")
    field(page, "姓名").fill(NEWCOMER.name)
    field(page, "证件类型").select_option(label="居民身份证")
    field(page, "证件号码").fill(NEWCOMER.id_number)
    captcha_input(page).fill(captcha_answer(page))
    shot(page, "register-identity")
    page.get_by_role("button", name="下一步").click()

    # Step 3: the account, with an SMS code sent to the new phone number.
    expect(page).to_have_url("/accounts/register/account/")
    expect(page.get_by_text("实名信息：**册")).to_be_visible()
    field(page, "用户名").fill(USERNAME)
    field(page, "密码").fill(PASSWORD)
    field(page, "确认密码").fill(PASSWORD)
    field(page, "手机号码").fill(PHONE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("alert").filter(has_text="验证码已发送至139****5678")).to_be_visible()
    # The page came back with what was typed, except the passwords (never sent back to a browser).
    expect(field(page, "用户名")).to_have_value(USERNAME)
    expect(field(page, "手机号码")).to_have_value(PHONE)
    field(page, "密码").fill(PASSWORD)
    field(page, "确认密码").fill(PASSWORD)
    field(page, "短信验证码").fill(sms_code(PHONE))
    shot(page, "register-account")
    page.get_by_role("button", name="注册", exact=True).click()

    expect(page).to_have_url("/accounts/register/done/")
    expect(page.get_by_text("恭喜您，注册成功！")).to_be_visible()
    masked_name_in_header(page, "**册")
    expect(page.get_by_role("banner")).not_to_contain_text(NEWCOMER.name)
    shot(page, "register-done")

    # 退出, then log in again with the new user name.
    log_out(page)
    log_in(page, USERNAME, PASSWORD)
    expect(page).to_have_url("/")
    masked_name_in_header(page, "**册")
    log_out(page)

    # 找回密码 from the login page: identity → SMS code and the new password → back to the login page.
    page.goto("/accounts/login/")
    page.get_by_role("link", name="找回密码").click()
    expect(page.get_by_role("heading", name="找回密码")).to_be_visible()
    field(page, "姓名").fill(NEWCOMER.name)
    field(page, "证件类型").select_option(label="居民身份证")
    field(page, "证件号码").fill(NEWCOMER.id_number)
    page.get_by_role("button", name="获取验证码").click()

    expect(page).to_have_url("/accounts/password/reset/confirm/")
    expect(page.get_by_role("heading", name="设置新密码")).to_be_visible()
    field(page, "短信验证码").fill(sms_code(PHONE))
    field(page, "密码").fill(NEW_PASSWORD)
    field(page, "确认密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="确定").click()

    expect(page).to_have_url("/accounts/login/")
    expect(page.get_by_role("alert").filter(has_text="密码已重置")).to_be_visible()
    shot(page, "password-reset")
    log_in(page, USERNAME, NEW_PASSWORD)
    expect(page).to_have_url("/")
    masked_name_in_header(page, "**册")


def test_login_by_phone_number_asks_for_an_sms_code(seeded, page, shot):
    submit_login(page, FLEXIBLE.phone)

    expect(page).to_have_url("/accounts/login/sms/")
    expect(page.get_by_role("heading", name="短信验证")).to_be_visible()
    expect(page.get_by_text("需要验证手机号码 138****0001")).to_be_visible()
    # Not logged in yet: the password alone does not do it for a phone login.
    reveal_navigation(page)
    expect(page.get_by_role("banner").get_by_role("link", name="登录")).to_be_visible()
    shot(page, "login-sms")

    field(page, "短信验证码").fill(sms_code(FLEXIBLE.phone))
    page.get_by_role("button", name="确定").click()

    expect(page).to_have_url("/")
    masked_name_in_header(page, "**活")


@pytest.mark.parametrize("viewport", [DESKTOP], ids=[DESKTOP.id], indirect=True)
def test_image_captcha_answer_box_has_a_label(page):
    page.goto("/accounts/register/online/")
    page.get_by_label("我已阅读并同意《用户服务协议》").check()
    page.get_by_label("我已阅读并同意《个人信息保护告知同意书》").check()
    page.get_by_role("button", name="同意并继续").click()
    expect(captcha_input(page)).to_be_visible()

    # A screen reader names a text box by its label; the captcha's sits in a fieldset whose <legend>
    # carries for="id_captcha_1" (a <legend> cannot label anything), so the box has no name.
    expect(page.get_by_role("textbox", name="图片验证码")).to_be_visible(timeout=1_000)
