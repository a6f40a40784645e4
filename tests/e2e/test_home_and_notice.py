"""The home page, logging in, and the 办理须知 with its scope reminder, at desktop and phone widths."""

from playwright.sync_api import expect

from portal.models import NoticeDismissal
from tests.e2e.helpers import horizontal_overflow, log_in, reveal_navigation, wait_for_focus_within

PAY_PATH = "/contributions/pay/"
PAY_TILE = "灵活就业及城乡居民社会保险费缴费"
NOTICE_TITLE = f"《{PAY_TILE}》办理须知"
SCOPE_TEXT = "请注意! 此功能模块仅适用于以灵活就业及城乡居民身份参保登记"


def notice(page):
    return page.get_by_role("dialog", name=NOTICE_TITLE)


def scope_reminder(page):
    return page.get_by_role("dialog", name="提醒")


def test_anonymous_home_shows_the_three_groups_without_sideways_scroll(page, shot):
    page.goto("/")

    expect(page.get_by_role("banner")).to_contain_text("国家税务总局上海市电子税务局")
    for group in ("缴费协议签订", "申报缴费", "证明开具"):
        expect(page.get_by_role("heading", name=group, exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert horizontal_overflow(page) == {"scrolls": False, "wide": []}
    shot(page, "home")


def test_demo_user_logs_in_from_home_and_sees_the_masked_name(seeded, page, shot):
    page.goto("/")
    reveal_navigation(page)
    page.get_by_role("banner").get_by_role("link", name="登录").click()
    expect(page.get_by_role("heading", name="自然人登录")).to_be_visible()
    shot(page, "login")

    log_in(page, "linghuo")

    expect(page).to_have_url("/")
    name = page.get_by_role("banner").get_by_text("**活")
    if not name.is_visible():
        reveal_navigation(page)
    expect(name).to_be_visible()
    expect(page.get_by_role("banner")).not_to_contain_text("张灵活")
    shot(page, "home-logged-in")


def test_notice_then_scope_reminder_when_opening_pay(logged_in, shot):
    page = logged_in
    page.goto("/")
    page.get_by_role("link", name=PAY_TILE, exact=True).click()

    expect(page).to_have_url(PAY_PATH)
    expect(notice(page)).to_be_visible()
    expect(notice(page).get_by_role("button", name="继续办理")).to_be_visible()
    expect(notice(page).get_by_role("button", name="我知道了，不再提示")).to_be_visible()
    shot(page, "notice")

    notice(page).get_by_role("button", name="继续办理").click()

    expect(notice(page)).to_be_hidden()
    expect(scope_reminder(page)).to_be_visible()
    expect(scope_reminder(page)).to_contain_text(SCOPE_TEXT)
    shot(page, "scope-reminder")

    scope_reminder(page).get_by_role("button", name="确定").click()

    expect(scope_reminder(page)).to_be_hidden()


def test_dont_show_again_hides_the_notice_but_not_the_scope_reminder(logged_in):
    page = logged_in
    page.goto(PAY_PATH)

    notice(page).get_by_role("button", name="我知道了，不再提示").click()

    expect(notice(page)).to_be_hidden()
    expect(scope_reminder(page)).to_be_visible()
    assert NoticeDismissal.objects.filter(user__username="linghuo", notice_key="contributions.pay").exists()

    page.reload()

    expect(scope_reminder(page)).to_be_visible()
    expect(page.locator("[data-portal-notice]")).to_have_count(0)


def test_notice_works_with_the_keyboard_alone(logged_in):
    page = logged_in
    page.goto(PAY_PATH)
    expect(notice(page)).to_be_visible()
    wait_for_focus_within(page, "[data-portal-notice]")

    reached = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
              const modal = document.querySelector('[data-portal-notice]');
              return modal.contains(document.activeElement) ? document.activeElement.innerText.trim() : null;
            }"""
        )
        assert focused is not None, f"Tab left the notice after {reached}"
        reached.append(focused)
        if focused == "继续办理":
            break
    assert "继续办理" in reached, f"Tab never reached 继续办理: {reached}"

    page.keyboard.press("Tab")
    expect(notice(page).get_by_role("button", name="我知道了，不再提示")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(notice(page).get_by_role("button", name="继续办理")).to_be_focused()
    page.keyboard.press("Enter")

    expect(notice(page)).to_be_hidden()
    expect(scope_reminder(page)).to_be_visible()
    wait_for_focus_within(page, "[data-portal-scope]")
    page.keyboard.press("Escape")
    expect(scope_reminder(page)).to_be_hidden()


def test_anonymous_pay_goes_to_login_and_back(seeded, page):
    page.goto(PAY_PATH)

    expect(page).to_have_url(f"/accounts/login/?next={PAY_PATH}")

    log_in(page, "linghuo")

    expect(page).to_have_url(PAY_PATH)
    expect(notice(page)).to_be_visible()
