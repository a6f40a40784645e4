"""
灵活就业及城乡居民社会保险费缴费 in the browser: the wizard, 支付方式, the UnionPay sandbox's cashier page
and back, 缴费记录; a declined card; paying for someone else; the two "cannot pay" pages (SPEC rules 1
and 2); the wizard by keyboard alone.

The payment journeys run a real Celery worker (tests/conftest.py's `celery_worker`, on the live server's
test database): the sandbox's asynchronous notification travels from the worker to the live server's
notify URL, as it would in production.
"""

import re

import pytest
from playwright.sync_api import expect

from contributions.models import Bill, BillStatus, Payment, PaymentStatus
from tests.e2e.conftest import VIEWPORTS
from tests.e2e.helpers import (
    focused_label,
    log_in_directly,
    reduce_motion,
    tab_to,
    wait_for_focus_within,
    wait_until,
)
from unionpay_sandbox.models import SandboxOrder

PAY_TILE = "灵活就业及城乡居民社会保险费缴费"
NOTICE_TITLE = f"《{PAY_TILE}》办理须知"
GOOD_CARD = "6222021234567890128"
DECLINED_CARD = "6222020000000000000"
NOT_ENROLLED = "缴费人不属于灵活就业或城乡居民身份的参保人员，请确认参保身份再行办理。"
DESKTOP = next(viewport for viewport in VIEWPORTS if viewport.id == "desktop")


@pytest.fixture(autouse=True)
def wizard_open_every_day(settings):
    """The wizard closes on auto-debit days; the live server runs in this process and sees this."""
    settings.AUTO_DEBIT_DAYS = []


@pytest.fixture
def page(page):
    """The conftest's page, without Bootstrap's fade transitions (two modals open on every visit)."""
    reduce_motion(page)
    return page


@pytest.fixture
def as_linghuo(seeded, page):
    """Logged in as 张灵活 (linghuo) without the login page, which tests/e2e/test_home_and_notice covers."""
    log_in_directly(page, "linghuo")
    return page


def open_wizard(page, *, from_home=True, already_there=False):
    """Home → the 缴费 tile → 办理须知: 继续办理 → 提醒: 确定 → step 1."""
    if from_home:
        page.goto("/")
        page.get_by_role("link", name=PAY_TILE, exact=True).click()
    elif not already_there:
        page.goto("/contributions/pay/")
    expect(page).to_have_url("/contributions/pay/")
    page.get_by_role("dialog", name=NOTICE_TITLE).get_by_role("button", name="继续办理").click()
    page.get_by_role("dialog", name="提醒").get_by_role("button", name="确定").click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def next_step(page):
    with page.expect_navigation():
        page.get_by_role("button", name="下一步").click()


def notice_groups(page):
    return page.locator("tbody.portal-notice-group")


def total(page):
    return page.locator("[data-bill-total]")


def submit_bills_and_choose_card(page, shot=None, *, amount):
    """Step 3 提交 → 支付方式 (银联支付) 确定 → the sandbox's cashier page."""
    page.get_by_role("button", name="提交").click()
    expect(page).to_have_url("/contributions/pay/method/")
    expect(page.get_by_text("费款合计：")).to_contain_text(amount)
    expect(page.get_by_role("radio", name="银联支付")).to_be_checked()
    if shot:
        shot(page, "pay-method")
    page.get_by_role("button", name="确定").click()
    expect(page).to_have_url(re.compile(r"/sandbox/unionpay/pay/\w+/$"))
    expect(page.get_by_role("heading", name="银联在线支付")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"{amount} 元")


def pay_by_card(page, card=GOOD_CARD):
    page.get_by_label("银行卡号").fill(card)
    page.get_by_role("button", name="确认支付").click()


def expect_paid(page):
    """The portal's result page: 缴费成功 (after 支付结果确认中 and its 3-second refreshes, if need be)."""
    expect(page).to_have_url(re.compile(r"/contributions/payments/\w+/\?"))
    expect(page.get_by_role("status").filter(has_text="缴费成功")).to_be_visible(timeout=15_000)


def notified(order_number):
    return SandboxOrder.objects.filter(order_number=order_number, notified_at__isnull=False).exists()


def order_number_on(page):
    return re.search(r"/contributions/payments/(\w+)/", page.url).group(1)


@pytest.mark.worker
def test_pay_the_months_bills_by_card_and_see_them_in_the_records(celery_worker, logged_in, shot):
    page = logged_in
    open_wizard(page)

    # Step 1 本人 → step 2, both enrolments ticked → step 3.
    expect(page.get_by_role("radio", name="本人")).to_be_checked()
    next_step(page)
    expect(page).to_have_url("/contributions/pay/enrolments/")
    enrolments = page.get_by_role("checkbox")
    expect(enrolments).to_have_count(2)
    for box in enrolments.all():
        expect(box).to_be_checked()
    next_step(page)

    # Step 3, 日常缴费: last month's notice, its two bills, 合计 2349.90.
    expect(page).to_have_url("/contributions/pay/bills/")
    expect(page.get_by_role("link", name="日常缴费 (1)")).to_have_attribute("aria-current", "page")
    expect(notice_groups(page)).to_have_count(1)
    expect(notice_groups(page).locator("tr")).to_have_count(2)
    expect(total(page)).to_have_text("2349.90")
    shot(page, "pay-step3")

    submit_bills_and_choose_card(page, shot, amount="2349.90")
    shot(page, "gateway")
    pay_by_card(page)

    expect_paid(page)
    expect(page.locator("main")).to_contain_text("2349.90 元")
    shot(page, "pay-success")
    order_number = order_number_on(page)

    page.get_by_role("link", name="查看缴费记录").click()
    expect(page).to_have_url("/contributions/records/")
    orders, records = page.locator("main table").all()
    order_row = orders.get_by_role("row").filter(has_text=order_number)
    expect(order_row).to_contain_text("支付成功")
    expect(order_row).to_contain_text("2349.90")
    expect(records.get_by_role("row").filter(has_text="待入库")).to_have_count(2)
    shot(page, "records")

    # The gateway's asynchronous notification, sent by the worker, reached the live server.
    wait_until(lambda: notified(order_number), message=f"the sandbox's notification of {order_number}")
    assert Payment.objects.get(order_number=order_number).status == PaymentStatus.SUCCEEDED


@pytest.mark.worker
def test_a_declined_card_and_a_cancelled_payment_leave_the_bills_payable(celery_worker, as_linghuo):
    page = as_linghuo
    open_wizard(page, from_home=False)
    next_step(page)
    next_step(page)
    submit_bills_and_choose_card(page, amount="2349.90")

    pay_by_card(page, DECLINED_CARD)

    expect(page.get_by_text("余额不足，支付失败。请更换银行卡或稍后再试。")).to_be_visible()
    expect(page.get_by_role("heading", name="银联在线支付")).to_be_visible()

    page.get_by_role("button", name="取消支付").click()

    expect(page).to_have_url(re.compile(r"/contributions/payments/\w+/\?.*result=cancelled"))
    expect(page.get_by_role("status")).to_contain_text("支付未完成，应缴信息仍可缴费。")
    expect(page.get_by_role("link", name="重新支付")).to_be_visible()
    payment = Payment.objects.get(order_number=order_number_on(page))
    assert payment.status == PaymentStatus.PENDING
    assert Bill.objects.filter(enrolment__person__name="张灵活", status=BillStatus.PAID).count() == 0

    # Still payable: 重新支付 goes back to the same order at the cashier, where a good card pays it.
    page.get_by_role("link", name="重新支付").click()
    page.get_by_role("button", name="确定").click()
    pay_by_card(page)
    expect_paid(page)
    assert order_number_on(page) == payment.order_number
    # Let the notification arrive now: a task left in the broker would be delivered in a later run.
    wait_until(lambda: notified(payment.order_number), message="the sandbox's notification")


@pytest.mark.worker
def test_pay_for_someone_else(celery_worker, as_linghuo, shot):
    page = as_linghuo
    open_wizard(page, from_home=False)

    page.get_by_role("radio", name="他人").check()
    other = page.get_by_role("group", name="代他人缴费时")
    expect(other).to_be_visible()
    other.get_by_label("姓名").fill("李居民")
    other.get_by_label("证件类型").select_option(label="居民身份证")
    other.get_by_label("证件号码").fill("310104198506220028")
    expect(other.get_by_label("国籍（地区）")).to_have_value("中国")
    next_step(page)

    # Step 2: 李居民's two 城乡居民 enrolments.
    expect(page).to_have_url("/contributions/pay/enrolments/")
    expect(page.get_by_text("缴费人：**民")).to_be_visible()
    rows = page.locator("main tbody tr")
    expect(rows).to_have_count(2)
    for row in rows.all():
        expect(row).to_contain_text("城乡居民")
    next_step(page)

    # Step 3: this year's pension and next year's medical insurance, two notices.
    expect(notice_groups(page)).to_have_count(2)
    expect(total(page)).to_have_text("1820.00")
    submit_bills_and_choose_card(page, amount="1820.00")
    pay_by_card(page)

    expect_paid(page)
    expect(page.locator("main")).to_contain_text("**民")
    shot(page, "pay-for-other")
    order_number = order_number_on(page)
    wait_until(lambda: notified(order_number), message=f"the sandbox's notification of {order_number}")


def test_not_enrolled_cannot_pay(seeded, page, shot):
    log_in_directly(page, "weicanbao")
    open_wizard(page, from_home=False)

    next_step(page)

    expect(page).to_have_url("/contributions/pay/")
    # The page has loaded (next_step waits for it), so notice.js has run: a modal it opened has put
    # `modal-open` on <body> by now.
    covered = "modal-open" in page.locator("body").get_attribute("class")
    if covered:
        # App bug: the 办理须知 (then the 提醒) opens again over the answer. Close them to show the
        # answer in the screenshot; the test still fails below.
        open_wizard(page, from_home=False, already_there=True)
    expect(page.get_by_role("alert").filter(has_text=NOT_ENROLLED)).to_be_visible()
    shot(page, "error-not-enrolled")
    assert not covered, (
        "after 下一步, step 1 comes back with the error under the 办理须知 and 提醒 modals again: the "
        "payer must dismiss both, a second time, to read why they cannot pay"
    )


def test_enrolled_without_bills_sees_why(seeded, page, shot):
    log_in_directly(page, "jilu")
    open_wizard(page, from_home=False)
    next_step(page)
    expect(page).to_have_url("/contributions/pay/enrolments/")
    next_step(page)

    expect(page).to_have_url("/contributions/pay/bills/")
    message = page.get_by_role("alert")
    expect(message).to_contain_text("未查询到有效信息")
    expect(message).to_contain_text("可能的原因：")
    for reason in ("当前无应缴费信息", "已通过银行批量扣款或自行缴纳完成缴费", "参保登记已过有效期"):
        expect(message.get_by_role("listitem").filter(has_text=reason)).to_be_visible()
    shot(page, "error-nothing-payable")


@pytest.mark.parametrize("viewport", [DESKTOP], ids=[DESKTOP.id], indirect=True)
def test_the_wizard_works_with_the_keyboard_alone(as_linghuo):
    page = as_linghuo
    page.goto("/contributions/pay/")
    notice = page.get_by_role("dialog", name=NOTICE_TITLE)
    expect(notice).to_be_visible()
    wait_for_focus_within(page, "[data-portal-notice]")
    tab_to(page, "继续办理")
    page.keyboard.press("Enter")
    scope = page.get_by_role("dialog", name="提醒")
    expect(scope).to_be_visible()
    wait_for_focus_within(page, "[data-portal-scope]")
    tab_to(page, "确定")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_have_count(0)

    # Step 1: 本人 is chosen with Space, 下一步 pressed with Enter.
    tab_to(page, "本人")
    page.keyboard.press("Space")
    expect(page.get_by_role("radio", name="本人")).to_be_checked()
    tab_to(page, "下一步")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # Step 2: the enrolments come ticked; Space unticks and ticks one again.
    expect(page).to_have_url("/contributions/pay/enrolments/")
    tab_to(page, "选择")
    focused = page.locator(":focus")
    page.keyboard.press("Space")
    expect(focused).not_to_be_checked()
    page.keyboard.press("Space")
    expect(focused).to_be_checked()
    tab_to(page, "下一步")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # Step 3: the notice's box toggles 合计 with Space; 提交 with Enter reaches 支付方式.
    expect(page).to_have_url("/contributions/pay/bills/")
    tab_to(page, "选择征集通知单号")
    page.keyboard.press("Space")
    expect(total(page)).to_have_text("0.00")
    page.keyboard.press("Space")
    expect(total(page)).to_have_text("2349.90")
    tab_to(page, "提交")
    assert focused_label(page) == "提交"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url("/contributions/pay/method/")
    expect(page.get_by_text("费款合计：")).to_contain_text("2349.90")
