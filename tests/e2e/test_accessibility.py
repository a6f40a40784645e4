"""
Accessibility of every citizen page, with axe-core (tests/e2e/vendor/axe.min.js, injected by the test):
no serious or critical WCAG 2 A/AA violation, and every visible form field has an accessible name
(axe's `label` and `select-name` rules, which `assert_accessible` refuses to switch off, and a count
of its own). Pages with the 办理须知 and 提醒 are checked with each dialog open (the dialog itself) and
with both closed. One test per group of pages, each at both viewports; each test visits its pages in
the order a person would and reports every page's problems at the end, not just the first.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from certificates.models import Certificate, CertificateStatus
from certificates.services import new_verification_code
from contributions.models import TaxAuthority
from mandates.models import MandateChannel
from mandates.services import sign_mandate
from payers.models import Person, User
from portal.demo import PEOPLE
from tests.e2e.conftest import VIEWPORTS
from tests.e2e.helpers import (
    accessibility_violations,
    assert_accessible,
    captcha_answer,
    log_in_directly,
    log_out,
    reduce_motion,
    reveal_navigation,
    sms_code,
    sms_code_for,
    submit_login,
    unnamed_form_fields,
)

NEWCOMER = next(person for person in PEOPLE if person.username is None)  # 陈注册, in the registry only
FLEXIBLE = next(person for person in PEOPLE if person.username == "linghuo")  # 张灵活
PASSWORD = "Qz7#kLm2026"
PHONE = "13912345678"
CARD = "6222021001150017009"  # 张灵活's 工商银行 card in the bank sandbox
PAY_TILE = "灵活就业及城乡居民社会保险费缴费"
MANDATE_TILE = "灵活就业及城乡居民个人委托扣款协议签订"
CERTIFICATE_TILE = "灵活就业及城乡居民社会保险费缴费证明开具"
PUDONG = "国家税务总局上海市浦东新区税务局"
DESKTOP = next(viewport for viewport in VIEWPORTS if viewport.id == "desktop")


class Audit:
    """Run `assert_accessible` on page after page; fail once at the end with every page's problems."""

    def __init__(self, page):
        self.page = page
        self.problems = []
        self.checked = []

    def check(self, what, context=None, *, page=None):
        page = page or self.page
        page.wait_for_load_state()
        try:
            assert_accessible(page, context, what=f"{what} ({page.url})")
        except AssertionError as problem:
            self.problems.append(str(problem))
        self.checked.append(what)

    def business_page(self, what, title, *, notice=True):
        """
        A page with the 《title》办理须知 (unless `notice` is False: the 提醒 only) and the 提醒: each
        dialog while it is open, then the page once both are closed.
        """
        page = self.page
        if notice:
            dialog = page.get_by_role("dialog", name=f"《{title}》办理须知")
            expect(dialog).to_be_visible()
            self.check(f"{what}: 办理须知", "[data-portal-notice]")
            dialog.get_by_role("button", name="继续办理").click()
        reminder = page.get_by_role("dialog", name="提醒")
        expect(reminder).to_be_visible()
        self.check(f"{what}: 提醒", "[data-portal-scope]")
        reminder.get_by_role("button", name="确定").click()
        expect(page.get_by_role("dialog")).to_have_count(0)
        self.check(what)

    def maybe_business_page(self, what, title):
        """A page that shows its dialogs only when the payer enters the business from outside."""
        self.page.wait_for_load_state()
        if self.page.get_by_role("dialog").count():
            self.business_page(what, title)
        else:
            self.check(what)

    def assert_clean(self):
        assert self.checked, "no page was checked"
        if self.problems:
            pytest.fail(
                f"{len(self.problems)} of {len(self.checked)} checks found accessibility problems:\n"
                + "\n".join(self.problems),
                pytrace=False,
            )


@pytest.fixture
def page(page):
    """The conftest's page, without Bootstrap's fade transitions (the dialogs open and close at once)."""
    reduce_motion(page)
    return page


@pytest.fixture
def audit(page):
    return Audit(page)


@pytest.fixture(autouse=True)
def wizard_open_every_day(settings):
    """The payment wizard closes on auto-debit days; the live server runs in this process and sees this."""
    settings.AUTO_DEBIT_DAYS = []


def field(page, label):
    """An input by its label, exactly (crispy adds "*" to required ones), so 密码 is not 确认密码."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def go(page, button):
    """Press `button` and wait for the page it leads to."""
    with page.expect_navigation():
        button.click()


def test_home_and_account_pages(seeded, page, audit, viewport, browser_problems):
    page.goto("/")
    audit.check("首页 (anonymous)")
    if viewport.id == "phone":
        reveal_navigation(page)
        audit.check("首页 (anonymous), navigation open")
    page.goto("/accounts/login/")
    audit.check("登录")
    page.goto("/accounts/terms/")
    audit.check("用户服务协议")
    page.goto("/accounts/privacy/")
    audit.check("个人信息保护告知同意书")
    browser_problems.allow(r"/no-such-page/")  # the HTTP 404 and its console error
    page.goto("/no-such-page/")
    expect(page.get_by_role("heading", name="您访问的页面不存在")).to_be_visible()
    audit.check("404")

    # 用户注册: the chooser, 在线注册's agreements, the identity with the image captcha, the account.
    page.goto("/accounts/register/code/")
    audit.check("注册码注册")
    page.goto("/accounts/register/")
    audit.check("用户注册")
    go(page, page.get_by_role("link", name="在线注册"))
    audit.check("在线注册: 协议")
    page.get_by_label("我已阅读并同意《用户服务协议》").check()
    page.get_by_label("我已阅读并同意《个人信息保护告知同意书》").check()
    go(page, page.get_by_role("button", name="同意并继续"))
    expect(page).to_have_url("/accounts/register/online/identity/")
    audit.check("在线注册: 实名信息 (captcha)")
    go(page, page.get_by_role("button", name="下一步"))  # nothing filled in: the errors
    audit.check("在线注册: 实名信息, with errors")
    field(page, "姓名").fill(NEWCOMER.name)
    field(page, "证件类型").select_option(label="居民身份证")
    field(page, "证件号码").fill(NEWCOMER.id_number)
    page.get_by_role("group", name="图片验证码").get_by_role("textbox").fill(captcha_answer(page))
    go(page, page.get_by_role("button", name="下一步"))
    expect(page).to_have_url("/accounts/register/account/")
    audit.check("注册: 账户信息")
    field(page, "用户名").fill("chenzc")
    field(page, "手机号码").fill(PHONE)
    go(page, page.get_by_role("button", name="获取验证码"))
    audit.check("注册: 账户信息, code sent")
    field(page, "密码").fill(PASSWORD)
    field(page, "确认密码").fill(PASSWORD)
    field(page, "短信验证码").fill(sms_code(PHONE))
    go(page, page.get_by_role("button", name="注册", exact=True))
    expect(page).to_have_url("/accounts/register/done/")
    audit.check("注册成功")
    page.goto("/")
    audit.check("首页 (logged in)")
    if viewport.id == "phone":
        reveal_navigation(page)
        audit.check("首页 (logged in), navigation open")
    log_out(page)

    # 找回密码, both steps.
    page.goto("/accounts/password/reset/")
    audit.check("找回密码")
    field(page, "姓名").fill(NEWCOMER.name)
    field(page, "证件类型").select_option(label="居民身份证")
    field(page, "证件号码").fill(NEWCOMER.id_number)
    go(page, page.get_by_role("button", name="获取验证码"))
    expect(page).to_have_url("/accounts/password/reset/confirm/")
    audit.check("找回密码: 设置新密码")

    # A login by phone number: the SMS code step.
    submit_login(page, FLEXIBLE.phone)
    expect(page).to_have_url("/accounts/login/sms/")
    audit.check("登录: 短信验证")

    audit.assert_clean()


def test_payment_pages(seeded, page, audit):
    sign_mandate(
        person=Person.objects.get(name=FLEXIBLE.name),
        bank="ICBC",
        account_number=CARD,
        reserved_phone=FLEXIBLE.phone,
        channel=MandateChannel.ONLINE,
    )
    log_in_directly(page, "linghuo")

    # Step 1 with its dialogs, 2, 3, 支付方式 (银联支付 and 授权书支付), the gateway, 取消支付's result.
    page.goto("/contributions/pay/")
    audit.business_page("缴费 step 1", PAY_TILE)
    go(page, page.get_by_role("button", name="下一步"))
    expect(page).to_have_url("/contributions/pay/enrolments/")
    audit.check("缴费 step 2")
    go(page, page.get_by_role("button", name="下一步"))
    expect(page).to_have_url("/contributions/pay/bills/")
    audit.check("缴费 step 3")
    go(page, page.get_by_role("button", name="提交"))
    expect(page).to_have_url("/contributions/pay/method/")
    expect(page.get_by_role("radio", name="授权书支付")).to_be_visible()
    audit.check("支付方式")
    go(page, page.get_by_role("button", name="确定"))
    expect(page.get_by_role("heading", name="银联在线支付")).to_be_visible()
    audit.check("银联 sandbox gateway")
    page.get_by_label("银行卡号").fill("1234")
    go(page, page.get_by_role("button", name="确认支付"))
    audit.check("银联 sandbox gateway, with an error")
    go(page, page.get_by_role("button", name="取消支付"))
    expect(page.get_by_role("status")).to_contain_text("支付未完成")
    audit.check("缴费结果: 支付未完成")

    # Again, by 授权书支付: 缴费成功 at once.
    page.goto("/contributions/pay/")
    audit.maybe_business_page("缴费 step 1, again", PAY_TILE)
    go(page, page.get_by_role("button", name="下一步"))
    go(page, page.get_by_role("button", name="下一步"))
    go(page, page.get_by_role("button", name="提交"))
    page.get_by_role("radio", name="授权书支付").check()
    go(page, page.get_by_role("button", name="确定"))
    expect(page.get_by_role("status").filter(has_text="缴费成功")).to_be_visible()
    audit.check("缴费结果: 缴费成功")
    go(page, page.get_by_role("link", name="查看缴费记录"))
    expect(page).to_have_url("/contributions/records/")
    audit.check("缴费记录")

    # SPEC rules 1 and 2: not enrolled; enrolled, nothing to pay.
    log_in_directly(page, "weicanbao")
    page.goto("/contributions/pay/")
    audit.maybe_business_page("缴费 step 1 (not enrolled)", PAY_TILE)
    go(page, page.get_by_role("button", name="下一步"))
    expect(page.get_by_role("alert").filter(has_text="缴费人不属于灵活就业或城乡居民身份")).to_be_visible()
    audit.check("缴费 step 1: not enrolled")
    log_in_directly(page, "jilu")
    page.goto("/contributions/pay/")
    audit.maybe_business_page("缴费 step 1 (nothing payable)", PAY_TILE)
    go(page, page.get_by_role("button", name="下一步"))
    go(page, page.get_by_role("button", name="下一步"))
    expect(page.get_by_role("alert")).to_contain_text("未查询到有效信息")
    audit.check("缴费 step 3: nothing payable")

    audit.assert_clean()


def test_mandate_pages(seeded, page, audit):
    log_in_directly(page, "linghuo")
    page.goto("/mandates/")
    audit.business_page("委托扣款协议签订", MANDATE_TILE)
    go(page, page.get_by_role("button", name="下一步"))  # nothing filled in: the errors
    audit.check("委托扣款协议签订, with errors")
    page.get_by_label("银行预留手机号码").fill(FLEXIBLE.phone)
    page.get_by_label("开户银行名称").select_option(label="工商银行")
    page.get_by_label("银行账号").fill(CARD)
    go(page, page.get_by_role("button", name="下一步"))
    expect(page).to_have_url("/mandates/letter/")
    audit.check("社会保险费扣费授权书")
    go(page, page.get_by_role("button", name="同意"))
    expect(page).to_have_url("/mandates/verify/")
    audit.check("签订: 短信验证")
    page.get_by_label("短信验证码").fill(sms_code_for(FLEXIBLE.phone, "mandate_sign"))
    go(page, page.get_by_role("button", name="确定"))
    expect(page).to_have_url("/mandates/signed/")
    audit.check("授权成功")
    go(page, page.get_by_role("link", name="查看授权信息"))
    expect(page.get_by_role("heading", name="社会保险费扣费授权")).to_be_visible()
    audit.check("查看授权信息")
    page.goto("/mandates/")
    audit.maybe_business_page("查看授权信息, entered again", MANDATE_TILE)
    with page.context.expect_page() as new_page:
        page.get_by_role("link", name="打印授权书").click()
    printed = new_page.value
    expect(printed.get_by_role("heading", name="社会保险费扣费授权书")).to_be_visible()
    audit.check("打印授权书", page=printed)
    printed.close()
    go(page, page.get_by_role("link", name="撤销", exact=True))
    expect(page).to_have_url("/mandates/revoke/")
    audit.check("撤销: 确认")
    go(page, page.get_by_role("button", name="确定"))
    expect(page).to_have_url("/mandates/revoke/verify/")
    audit.check("撤销: 短信验证")
    page.get_by_label("短信验证码").fill(sms_code_for(FLEXIBLE.phone, "mandate_revoke"))
    go(page, page.get_by_role("button", name="确定"))
    expect(page).to_have_url("/mandates/revoked/")
    audit.check("撤销成功")

    audit.assert_clean()


def test_certificate_pages(seeded, page, audit, browser, live_server, viewport, browser_problems):
    user = User.objects.get(username="jilu")
    last_year = timezone.localdate().year - 1
    certificates = [
        Certificate.objects.create(
            applicant=user,
            person=user.person,
            period_start=datetime.date(last_year, 1, 1),
            period_end=datetime.date(last_year, 12, 31),
            tax_authority=TaxAuthority.objects.get(name=PUDONG),
            total="1790.00",
            verification_code=new_verification_code(),
            status=status,
        )
        for status in (CertificateStatus.READY, CertificateStatus.FAILED)
    ]
    log_in_directly(page, "jilu")

    page.goto("/certificates/")
    audit.business_page("缴费证明开具", CERTIFICATE_TILE)
    page.get_by_label("缴费所属期起").fill(f"{last_year - 1}-01")
    page.get_by_label("缴费所属期止").fill(f"{last_year}-12")
    go(page, page.get_by_role("button", name="查询"))
    expect(page.get_by_role("heading", name="筛选条件")).to_be_visible()
    audit.maybe_business_page("缴费证明开具: 查询结果 and 筛选条件", CERTIFICATE_TILE)
    authority = page.get_by_label("税务征收机关")
    authority.select_option(label=PUDONG)
    go(page, page.locator("form").filter(has=authority).get_by_role("button", name="确定"))
    expect(page.get_by_role("button", name="缴费证明申请")).to_be_enabled()
    audit.maybe_business_page("缴费证明开具: 筛选条件 chosen", CERTIFICATE_TILE)

    page.goto("/certificates/downloads/")
    expect(page.get_by_role("row").filter(has_text="制作成功")).to_be_visible()
    audit.maybe_business_page("社保缴费证明下载", CERTIFICATE_TILE)

    # The public verification page, as anyone holding the paper would open it: no login.
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", **viewport.context_options
    )
    context.on("console", browser_problems.on_console)
    context.on("weberror", browser_problems.on_web_error)
    context.on("requestfailed", browser_problems.on_request_failed)
    context.on("response", browser_problems.on_response)
    browser_problems.allow(r"/verify/NOSUCHCODE/")
    try:
        stranger = context.new_page()
        stranger.goto(f"/verify/{certificates[0].verification_code}/")
        expect(stranger.get_by_role("status")).to_have_text("经核验，该缴费证明真实有效。")
        audit.check("缴费证明验证", page=stranger)
        stranger.goto("/verify/NOSUCHCODE/")
        audit.check("缴费证明验证: not found", page=stranger)
    finally:
        context.close()

    audit.assert_clean()


@pytest.mark.parametrize("viewport", [DESKTOP], ids=[DESKTOP.id], indirect=True)
def test_the_check_catches_unlabelled_fields_and_faint_text(page):
    """The check itself: a field without a name and pale text on the login page do not pass."""
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.locator("main form").evaluate(
        """form => form.insertAdjacentHTML("beforeend",
             '<input type="text" id="nameless"><select id="nameless-select"><option>1</option></select>'
             + '<p id="faint" style="color: #bbb">看不清的文字</p>')"""
    )

    problems = "\n".join(accessibility_violations(page))
    assert re.search(r"^label \[critical\].*#nameless\b", problems, re.M), problems
    assert re.search(r"^select-name \[critical\].*#nameless-select", problems, re.M), problems
    assert re.search(r"^color-contrast \[serious\].*#faint", problems, re.M), problems
    assert len(unnamed_form_fields(page)) == 2
    with pytest.raises(AssertionError, match="label"):
        assert_accessible(page)
    with pytest.raises(AssertionError, match="may not be disabled"):
        accessibility_violations(page, disabled=["label"])
