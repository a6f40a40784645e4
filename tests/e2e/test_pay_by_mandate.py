"""
授权书支付 in the browser: with a signed 社会保险费扣费授权书 (signed through mandates.services, the signing
itself being test_mandates' journey), the wizard offers 授权书支付 beside 银联支付 and pays the month's
bills from the mandate's bank account at once — no gateway, no waiting — at desktop and phone widths.
"""

import re

import pytest
from playwright.sync_api import expect

from bank_sandbox.models import SandboxAccount
from contributions.models import Bill, BillStatus, Payment, PaymentMethod, PaymentStatus
from mandates.models import MandateChannel
from mandates.services import sign_mandate
from payers.models import Person
from portal.demo import PEOPLE
from tests.e2e.helpers import log_in_directly, pass_notice, reduce_motion

PAY_TILE = "灵活就业及城乡居民社会保险费缴费"
FLEXIBLE = next(person for person in PEOPLE if person.username == "linghuo")  # 张灵活
CARD = "6222021001150017009"  # 张灵活's class I 工商银行 card in the bank sandbox (bank_sandbox/demo.py)
AMOUNT = "2349.90"  # last month's notice: the pension and the medical insurance


@pytest.fixture(autouse=True)
def wizard_open_every_day(settings):
    """The wizard closes on auto-debit days; the live server runs in this process and sees this."""
    settings.AUTO_DEBIT_DAYS = []


@pytest.fixture
def page(page):
    """The conftest's page, without Bootstrap's fade transitions (two modals open on every visit)."""
    reduce_motion(page)
    return page


def next_step(page, name="下一步"):
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def test_pay_the_months_bills_by_mandate(seeded, page, shot):
    person = Person.objects.get(id_number=FLEXIBLE.id_number)
    mandate = sign_mandate(
        person=person,
        bank="ICBC",
        account_number=CARD,
        reserved_phone=FLEXIBLE.phone,
        channel=MandateChannel.ONLINE,
    )
    balance = SandboxAccount.objects.get(bank="ICBC", account_number=CARD).balance
    log_in_directly(page, "linghuo")

    page.goto("/")
    page.get_by_role("link", name=PAY_TILE, exact=True).click()
    expect(page).to_have_url("/contributions/pay/")
    pass_notice(page, PAY_TILE)
    next_step(page)  # 本人
    expect(page).to_have_url("/contributions/pay/enrolments/")
    next_step(page)  # both enrolments
    expect(page).to_have_url("/contributions/pay/bills/")
    expect(page.locator("[data-bill-total]")).to_have_text(AMOUNT)
    next_step(page, "提交")

    # 支付方式: 授权书支付 is offered now, beside 银联支付 (still the default).
    expect(page).to_have_url("/contributions/pay/method/")
    expect(page.get_by_text("费款合计：")).to_contain_text(AMOUNT)
    expect(page.get_by_role("radio", name="银联支付")).to_be_checked()
    by_mandate = page.get_by_role("radio", name="授权书支付")
    by_mandate.check()
    next_step(page, "确定")

    # 缴费成功 at once: the portal's result page, never the gateway's.
    expect(page).to_have_url(re.compile(r"/contributions/payments/\w+/$"))
    expect(page.get_by_role("status").filter(has_text="缴费成功")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"{AMOUNT} 元")
    shot(page, "pay-by-mandate")

    order_number = re.search(r"/contributions/payments/(\w+)/", page.url).group(1)
    payment = Payment.objects.get(order_number=order_number)
    assert (payment.method, payment.status, str(payment.amount)) == (
        PaymentMethod.MANDATE,
        PaymentStatus.SUCCEEDED,
        AMOUNT,
    )
    assert payment.person == mandate.person
    paid = Bill.objects.filter(payment_lines__payment=payment)
    assert paid.count() == 2 and all(bill.status == BillStatus.PAID for bill in paid)
    assert str(balance - SandboxAccount.objects.get(bank="ICBC", account_number=CARD).balance) == AMOUNT

    # 缴费记录 lists the order as paid by the mandate.
    page.get_by_role("link", name="查看缴费记录").click()
    expect(page).to_have_url("/contributions/records/")
    row = page.locator("main table").first.get_by_role("row").filter(has_text=order_number)
    expect(row).to_contain_text("授权书支付")
    expect(row).to_contain_text("支付成功")
