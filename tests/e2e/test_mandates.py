"""
灵活就业及城乡居民个人委托扣款协议签订 in the browser (guide 1.1.2–1.1.4): sign with the bank's check,
《社会保险费扣费授权书》, 同意 and the SMS code, 授权成功; view, download and print the letter; revoke with
the confirmation and an SMS code. And the bank refusing an account whose reserved phone differs.
"""

import pytest
from playwright.sync_api import expect

from mandates.models import Mandate, MandateStatus
from portal.demo import PEOPLE
from tests.e2e.helpers import (
    download_pdf,
    log_in_directly,
    pass_notice,
    reduce_motion,
    sms_code_for,
    without_spaces,
)
from tests.pdf_helpers import pdf_text

MANDATE_TILE = "灵活就业及城乡居民个人委托扣款协议签订"
LETTER = "社会保险费扣费授权书"
REVOKE_QUESTION = "社会保险费扣费授权撤销后不再进行自动扣缴社保费，确认撤销吗？"
FLEXIBLE = next(person for person in PEOPLE if person.username == "linghuo")  # 张灵活
CARD = "6222021001150017009"  # 张灵活's class I 工商银行 card in the bank sandbox (bank_sandbox/demo.py)
# How the portal shows them (portal/masking.py).
MASKED_NAME = "**活"
MASKED_ID = "3" + "*" * 16 + "7"
MASKED_CARD = "6222" + "*" * 11 + "7009"
MASKED_PHONE = "138****0001"


@pytest.fixture
def page(page):
    """The conftest's page, without Bootstrap's fade transitions (the 办理须知 and 提醒 modals)."""
    reduce_motion(page)
    return page


@pytest.fixture
def as_linghuo(seeded, page):
    """Logged in as 张灵活 (linghuo) without the login page, which test_home_and_notice covers."""
    log_in_directly(page, "linghuo")
    return page


def open_sign_page(page):
    """Home → the 委托扣款协议签订 tile → 办理须知: 继续办理 → 提醒: 确定."""
    page.goto("/")
    page.get_by_role("link", name=MANDATE_TILE, exact=True).click()
    expect(page).to_have_url("/mandates/")
    pass_notice(page, MANDATE_TILE)


def fill_bank_details(page, *, reserved_phone=FLEXIBLE.phone, bank="工商银行", account=CARD):
    page.get_by_label("银行预留手机号码").fill(reserved_phone)
    page.get_by_label("开户银行名称").select_option(label=bank)
    page.get_by_label("银行账号").fill(account)


def enter_sms_code(page, purpose):
    """The 短信验证 page: the code sent for `purpose` (read from the SMS outbox) → 确定."""
    expect(page.get_by_role("heading", name="短信验证")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text=f"验证码已发送至{MASKED_PHONE}")).to_be_visible()
    page.get_by_label("短信验证码").fill(sms_code_for(FLEXIBLE.phone, purpose))
    page.get_by_role("button", name="确定").click()


def expect_masked(area):
    """`area` shows 张灵活, the ID number and the card masked, never in full."""
    expect(area).to_contain_text(MASKED_NAME)
    expect(area).not_to_contain_text(FLEXIBLE.name)
    expect(area).not_to_contain_text(FLEXIBLE.id_number)
    expect(area).not_to_contain_text(CARD)


def test_sign_view_download_print_and_revoke(as_linghuo, shot):
    page = as_linghuo
    open_sign_page(page)

    # The sign page: 缴费人信息 from the account, masked; the bank details to fill in.
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", name=MANDATE_TILE)).to_be_visible()
    expect_masked(main)
    expect(main).to_contain_text(MASKED_ID)
    expect(main).to_contain_text(MASKED_PHONE)
    expect(page.get_by_label("银行账户名")).to_have_value(MASKED_NAME)
    fill_bank_details(page)
    shot(page, "mandate-sign")
    page.get_by_role("button", name="下一步").click()

    # 《社会保险费扣费授权书》, filled in and masked.
    expect(page).to_have_url("/mandates/letter/")
    letter = page.locator("article.portal-letter")
    expect(letter.get_by_role("heading", name=LETTER)).to_be_visible()
    expect_masked(letter)
    for shown in (MASKED_ID, "工商银行", MASKED_CARD, MASKED_PHONE):
        expect(letter).to_contain_text(shown)
    shot(page, "mandate-letter")
    page.get_by_role("button", name="同意").click()

    expect(page).to_have_url("/mandates/verify/")
    enter_sms_code(page, "mandate_sign")

    expect(page).to_have_url("/mandates/signed/")
    expect(page.get_by_role("heading", name="授权成功")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("社会保险费扣费授权成功")
    mandate = Mandate.objects.get(person__name=FLEXIBLE.name, status=MandateStatus.ACTIVE)
    assert (mandate.bank, mandate.account_number, mandate.reserved_phone) == ("ICBC", CARD, FLEXIBLE.phone)
    shot(page, "mandate-signed")

    # 查看授权信息: the signed mandate, with 撤销 / 下载授权书 / 打印授权书.
    page.get_by_role("link", name="查看授权信息").click()
    expect(page).to_have_url("/mandates/")
    expect(page.get_by_role("dialog")).to_have_count(0)  # the notices were passed on the way in
    expect(page.get_by_role("heading", name="社会保险费扣费授权")).to_be_visible()
    expect_masked(main)
    expect(main).to_contain_text(MASKED_CARD)
    expect(main).to_contain_text("工商银行")
    for action in ("撤销", "下载授权书", "打印授权书"):
        expect(page.get_by_role("link", name=action, exact=True)).to_be_visible()
    shot(page, "mandate-view")

    # 下载授权书: the letter as a PDF (Chinese lines wrap anywhere: compare without white space).
    filename, pdf = download_pdf(page, page.get_by_role("link", name="下载授权书").click)
    assert filename.startswith(LETTER) and filename.endswith(".pdf"), filename
    text = without_spaces(pdf_text(pdf))
    for shown in (LETTER, "工商银行", MASKED_NAME, MASKED_CARD, "扣缴规则", "授权声明"):
        assert shown in text, f"{shown!r} is not in the downloaded letter: {text[:300]!r}"
    assert CARD not in text and FLEXIBLE.name not in text

    # 打印授权书: a print-styled page in a new tab, its 返回 hidden when printed.
    with page.context.expect_page() as new_page:
        page.get_by_role("link", name="打印授权书").click()
    printed = new_page.value
    expect(printed).to_have_url(f"/mandates/{mandate.pk}/print/")
    expect(printed).to_have_title(LETTER)
    expect(printed.get_by_role("heading", name=LETTER)).to_be_visible()
    expect_masked(printed.get_by_role("main"))
    expect(printed.get_by_role("main")).to_contain_text("工商银行")
    expect(printed.get_by_role("main")).to_contain_text(MASKED_CARD)
    back = printed.get_by_role("link", name="返回")
    expect(back).to_be_visible()
    printed.emulate_media(media="print")
    expect(back).to_be_hidden()
    # App bug: letter_print.html, unlike base.html, names no icon, so the browser asks for
    # /favicon.ico, a 404 (which the `page` fixture reports too). Checked at the end of the journey.
    print_page_icons = printed.locator("link[rel=icon]").count()
    printed.close()

    # 撤销 → the confirmation → 确定 → the SMS code → 撤销成功.
    page.get_by_role("link", name="撤销", exact=True).click()
    expect(page).to_have_url("/mandates/revoke/")
    expect(page.get_by_role("alert")).to_have_text(REVOKE_QUESTION)
    page.get_by_role("button", name="确定").click()

    expect(page).to_have_url("/mandates/revoke/verify/")
    enter_sms_code(page, "mandate_revoke")

    expect(page).to_have_url("/mandates/revoked/")
    expect(page.get_by_role("heading", name="撤销成功")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(
        "社会保险费扣费授权撤销成功，撤销后不再进行自动扣缴社保费。"
    )
    shot(page, "mandate-revoked")
    mandate.refresh_from_db()
    assert mandate.status == MandateStatus.REVOKED
    assert mandate.revoked_at is not None

    assert print_page_icons == 1, (
        "the 打印授权书 page (templates/mandates/letter_print.html) has no <link rel=icon>: the browser "
        "requests /favicon.ico and gets a 404"
    )


def test_the_bank_refuses_an_account_whose_reserved_phone_differs(as_linghuo):
    page = as_linghuo
    open_sign_page(page)

    fill_bank_details(page, reserved_phone="13900000009")
    page.get_by_role("button", name="下一步").click()

    expect(page.get_by_role("alert").filter(has_text="银行预留手机号码不一致")).to_be_visible()
    expect(page).to_have_url("/mandates/")
    # The form comes back with what was typed, and no 办理须知 over it (already read).
    expect(page.get_by_label("银行账号")).to_have_value(CARD)
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert not Mandate.objects.filter(person__name=FLEXIBLE.name).exists()
