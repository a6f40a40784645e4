"""
Staff at the 办税服务厅 take an offline payment in the admin: log in as the demo staff user (with the
动态验证码 of the demo authenticator), find 张灵活's
应缴信息 by ID number, select a daily bill, 办税服务厅收款 → 现金 → 确认收款, and print the
社会保险费收款凭证. Desktop only: the admin is a desk tool.
"""

import re

from playwright.sync_api import expect

from contributions.models import Bill, BillKind, BillStatus, Payment, PaymentMethod, PaymentStatus
from payers.models import User
from portal.demo import PEOPLE, STAFF_PASSWORD, STAFF_USERNAME
from tests.e2e.conftest import VIEWPORTS
from tests.helpers import current_totp_code

FLEXIBLE = next(person for person in PEOPLE if person.username == "linghuo")  # 张灵活
DESKTOP = next(viewport for viewport in VIEWPORTS if viewport.id == "desktop")
AMOUNT = "2349.90"  # the daily notice: the pension and the medical insurance, paid together


def test_staff_take_a_cash_payment_and_print_the_receipt(seeded, page, shot):
    daily = Bill.objects.filter(
        enrolment__person__id_number=FLEXIBLE.id_number, kind=BillKind.DAILY, status=BillStatus.UNPAID
    )
    notice_number = daily.first().notice_number
    assert daily.filter(notice_number=notice_number).count() == 2

    # /admin/login/ (django-axes watches it; no slider here): password and the authenticator's code.
    page.goto("/admin/login/")
    page.get_by_label("用户名").fill(STAFF_USERNAME)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_label("动态验证码").fill(current_totp_code(User.objects.get(username=STAFF_USERNAME)))
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    expect(page).to_have_url("/admin/")

    # 应缴信息 → search by the ID number → tick one of the daily bills.
    page.get_by_role("link", name="应缴信息", exact=True).click()
    expect(page).to_have_url("/admin/contributions/bill/")
    page.locator("#searchbar").fill(FLEXIBLE.id_number)
    with page.expect_navigation():
        page.locator("#changelist-search").get_by_role("button").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(Bill.objects.filter(enrolment__person__id_number=FLEXIBLE.id_number).count())
    for row in rows.all():
        expect(row).to_contain_text("**活")  # the payer, masked
        expect(row).not_to_contain_text(FLEXIBLE.name)
    daily_rows = rows.filter(has_text="日常缴费")
    expect(daily_rows).to_have_count(2)
    daily_rows.first.locator("input.action-select").check()

    # Action 办税服务厅收款 → the notice's bills (both: a notice is paid whole) → 现金 → 确认收款.
    page.locator("select[name=action]").select_option(label="办税服务厅收款（刷卡/支付宝/微信/现金）")
    with page.expect_navigation():
        page.locator("button[name=index]").click()
    expect(page).to_have_url(re.compile(r"/admin/contributions/bill/counter-payment/\?ids=\d+$"))
    expect(page.get_by_role("heading", name="办税服务厅收款")).to_be_visible()
    content = page.locator("#content")
    expect(content.locator("tbody tr")).to_have_count(2)
    expect(content.locator("tbody")).to_contain_text(notice_number)
    expect(content).to_contain_text(f"合计：{AMOUNT} 元")
    page.get_by_label("收款方式").select_option(label="现金")
    with page.expect_navigation():
        page.get_by_role("button", name="确认收款").click()

    # The printable 社会保险费收款凭证.
    expect(page).to_have_url(re.compile(r"/admin/contributions/payment/\d+/receipt/$"))
    expect(page.get_by_role("heading", name="社会保险费收款凭证")).to_be_visible()
    main = page.get_by_role("main")
    expect(main).to_contain_text("现金")
    expect(main).to_contain_text(STAFF_USERNAME)
    expect(main).to_contain_text("**活")
    expect(main).not_to_contain_text(FLEXIBLE.name)
    expect(main.locator("tfoot")).to_contain_text(AMOUNT)
    expect(main.locator("tbody tr")).to_have_count(2)
    shot(page, "admin-counter-receipt")

    payment = Payment.objects.get(pk=re.search(r"/payment/(\d+)/receipt/", page.url).group(1))
    assert (payment.method, payment.status, str(payment.amount)) == (
        PaymentMethod.CASH,
        PaymentStatus.SUCCEEDED,
        AMOUNT,
    )
    assert payment.operator.username == STAFF_USERNAME
    assert not Bill.objects.filter(notice_number=notice_number, status=BillStatus.UNPAID).exists()
