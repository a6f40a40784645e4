"""
What a person does in the browser, for the journeys: log in through the login page, pass the slider
human check, open the collapsed navigation on a phone, look for content wider than the screen.
"""

import random
import re
import time

from django.urls import reverse
from playwright.sync_api import expect

from portal.demo import DEMO_PASSWORD

# One fixed trajectory: irregular like a hand, the same on every run so a failure can be replayed.
_SLIDER_STEPS = 15
_slider_random = random.Random(2026)


def drag_slider(page):
    """
    Pass the 滑块验证 on the current page if it has one (an element with role "slider"): drag the
    handle to the end of its track (the handle's parent) in uneven steps, then wait for "验证通过".
    Does nothing on a page without a slider.
    """
    handle = page.get_by_role("slider")
    if handle.count() == 0:
        return
    handle.scroll_into_view_if_needed()
    track = handle.locator("xpath=..")
    box, track_box = handle.bounding_box(), track.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    distance = track_box["x"] + track_box["width"] - box["width"] / 2 - x
    weights = [_slider_random.uniform(0.4, 1.6) for _ in range(_SLIDER_STEPS)]
    page.mouse.move(x, y)
    page.mouse.down()
    for weight in weights:
        x += distance * weight / sum(weights)
        page.mouse.move(x, y + _slider_random.uniform(-1.5, 1.5))
        page.wait_for_timeout(_slider_random.randint(20, 60))
    page.mouse.up()
    expect(track.get_by_text("验证通过")).to_be_visible()


def log_in(page, username, password=DEMO_PASSWORD):
    """
    Log in through the login page (the current page if it is the login page, e.g. after a redirect
    with ?next=, else /accounts/login/) and wait until the portal has moved on from it.
    """
    login_path = reverse("payers:login")
    if login_path not in page.url:
        page.goto(login_path)
    form = page.locator("main form").filter(has=page.get_by_label("手机号码/证件号码/用户名"))
    form.get_by_label("手机号码/证件号码/用户名").fill(username)
    form.get_by_label("密码").fill(password)
    drag_slider(page)
    with page.expect_navigation():
        form.get_by_role("button", name="登录", exact=True).click()
    if login_path in page.url:
        errors = page.locator(".invalid-feedback, .alert, .errorlist").all_inner_texts()
        raise AssertionError(f"login as {username!r} stayed on the login page: {errors}")


def reveal_navigation(page):
    """Open the header's collapsed navigation (phone widths); nothing to do when it is expanded."""
    toggler = page.get_by_role("button", name="切换导航")
    if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
        toggler.click()
        expect(page.locator("#portal-nav")).to_be_visible()


def horizontal_overflow(page):
    """
    What makes the page wider than the window: whether the document scrolls sideways, and the
    visible elements whose right edge lies beyond the window (which `overflow-x: hidden` on <body>
    would clip rather than let scroll, hiding them from the first check).
    """
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          const wide = [];
          for (const element of document.body.querySelectorAll("*")) {
            const rect = element.getBoundingClientRect();
            if (rect.width === 0 || rect.height === 0 || rect.right <= width + 1) continue;
            if (getComputedStyle(element).visibility === "hidden") continue;
            if (element.closest(".modal:not(.show), .visually-hidden, .visually-hidden-focusable")) continue;
            const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
              + (element.className && typeof element.className === "string"
                 ? "." + element.className.trim().split(/\\s+/).join(".") : "");
            wide.push(`${name} right=${Math.round(rect.right)}`);
          }
          return {
            scrolls: document.documentElement.scrollWidth > width,
            wide: wide.slice(0, 10),
          };
        }"""
    )


# Added for the account and payment journeys ------------------------------------------------------

_SMS_CODE = re.compile(r"验证码：(\d{6})")


def submit_login(page, username, password=DEMO_PASSWORD):
    """
    Fill the login form on /accounts/login/, pass the slider and press 登录, then wait for the next
    page — whatever it is (`log_in` insists on leaving the login pages, which a phone login does not:
    it goes on to /accounts/login/sms/).
    """
    page.goto(reverse("payers:login"))
    form = page.locator("main form").filter(has=page.get_by_label("手机号码/证件号码/用户名"))
    form.get_by_label("手机号码/证件号码/用户名").fill(username)
    form.get_by_label("密码").fill(password)
    drag_slider(page)
    with page.expect_navigation():
        form.get_by_role("button", name="登录", exact=True).click()


def log_out(page):
    """Press the header's 退出 (opening the collapsed navigation first) and wait for the home page."""
    reveal_navigation(page)
    with page.expect_navigation():
        page.get_by_role("banner").get_by_role("button", name="退出").click()
    # The header offers 登录 again (collapsed on a phone, so only attached, not visible).
    expect(page.get_by_role("banner").get_by_role("link", name="登录", include_hidden=True)).to_be_attached()


def sms_code(phone):
    """The code in the latest SMS sent to `phone` (the simulated gateway's outbox, payers.SmsMessage)."""
    from payers.models import SmsMessage

    message = SmsMessage.objects.filter(phone=phone).first()
    assert message is not None, f"no SMS was sent to {phone}"
    found = _SMS_CODE.search(message.body)
    assert found, f"no code in the SMS to {phone}: {message.body!r}"
    return found.group(1)


def captcha_answer(page):
    """The answer to the page's image captcha, looked up by the hashkey in its hidden `captcha_0` input."""
    from captcha.models import CaptchaStore

    hashkey = page.locator("input[name=captcha_0]").input_value()
    return CaptchaStore.objects.get(hashkey=hashkey).response


def focused_label(page):
    """What the focused element says: its aria-label, its label, its text or its value."""
    return page.evaluate(
        """() => {
          const element = document.activeElement;
          if (!element || element === document.body) return "";
          const label = element.labels && element.labels.length ? element.labels[0].innerText : "";
          return (element.getAttribute("aria-label") || label || element.innerText || element.value || "").trim();
        }"""
    )


def tab_to(page, text, *, limit=40):
    """Press Tab until the focused element's label (see `focused_label`) contains `text`."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        label = focused_label(page)
        if text in label:
            return label
        seen.append(label)
    raise AssertionError(f"Tab never reached {text!r}; focus went through {seen}")


def wait_until(check, *, timeout=20.0, interval=0.25, message="condition"):
    """Poll `check()` (e.g. a database query) until it returns something truthy; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {message}")
        time.sleep(interval)


def log_in_directly(page, username):
    """
    Be logged in as `username` without the login page, for journeys about something else: a session
    made on the server (django.test.Client.force_login), whose cookie is handed to the browser.
    """
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": page.base_url}])


def reduce_motion(page):
    """Ask for reduced motion, so Bootstrap opens and closes its modals without the fade transitions."""
    page.emulate_media(reduced_motion="reduce")


# Added for the mandate and certificate journeys --------------------------------------------------


def sms_code_for(phone, purpose):
    """The code in the latest SMS sent to `phone` for `purpose` (payers.CodePurpose: "mandate_sign", ...)."""
    from payers.models import SmsMessage

    message = SmsMessage.objects.filter(phone=phone, purpose=purpose).first()
    assert message is not None, f"no SMS for {purpose!r} was sent to {phone}"
    found = _SMS_CODE.search(message.body)
    assert found, f"no code in the SMS to {phone}: {message.body!r}"
    return found.group(1)


def pass_notice(page, title):
    """On a business page: the 《title》办理须知 → 继续办理, then the 提醒 → 确定; no dialog left open."""
    page.get_by_role("dialog", name=f"《{title}》办理须知").get_by_role("button", name="继续办理").click()
    page.get_by_role("dialog", name="提醒").get_by_role("button", name="确定").click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def download_pdf(page, trigger):
    """
    Run `trigger()` (e.g. clicking a 下载 link), catch the download it starts and return
    (suggested file name, PDF bytes).
    """
    with page.expect_download() as info:
        trigger()
    download = info.value
    assert download.failure() is None, f"the download failed: {download.failure()}"
    with open(download.path(), "rb") as file:
        pdf = file.read()
    assert pdf.startswith(b"%PDF-"), f"{download.suggested_filename} is not a PDF: {pdf[:40]!r}"
    return download.suggested_filename, pdf


def without_spaces(text):
    """`text` without any white space: Chinese wraps anywhere, so PDF text is compared this way."""
    return re.sub(r"\s+", "", text)
