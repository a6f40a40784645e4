"""
What a person does in the browser, for the journeys: log in through the login page, pass the slider
human check, open the collapsed navigation on a phone, look for content wider than the screen.
"""

import random
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

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
        # Bootstrap gives the menu `show` when its opening transition has ended: a link clicked while
        # the menu still grows can miss.
        expect(page.locator("#portal-nav")).to_have_class(re.compile(r"\bshow\b"))


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


# Added for the accessibility checks --------------------------------------------------------------

# axe-core, from the npm registry (see vendor/README.md).
AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_PATH = "/__e2e__/axe.min.js"  # where pages load it from (no such URL on the server; see _inject_axe)
# WCAG 2.0, 2.1 and 2.2, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE_BLOCKING_IMPACTS = ("serious", "critical")
# Rules that must run on every check, whatever a caller disables: form fields have names, text is legible.
AXE_REQUIRED_RULES = ("label", "select-name", "color-contrast")

_AXE_RUN = """async ([context, tags, disabled]) => {
  const rules = Object.fromEntries(disabled.map((id) => [id, { enabled: false }]));
  const results = await axe.run(context === null ? document : context, {
    runOnly: { type: "tag", values: tags },
    rules,
    resultTypes: ["violations"],
  });
  const ran = [results.passes, results.violations, results.incomplete, results.inapplicable]
    .flat().map((rule) => rule.id);
  const violations = results.violations.map((rule) => ({
    id: rule.id,
    impact: rule.impact,
    help: rule.help,
    helpUrl: rule.helpUrl,
    nodes: rule.nodes.map((node) => ({
      target: node.target.map((part) => [].concat(part).join(" >>> ")),
      impact: node.impact,
      summary: node.failureSummary,
    })),
  }));
  return { ran, violations };
}"""

_UNNAMED_FIELDS = """() => {
  axe.setup(document);
  try {
    const unnamed = [];
    for (const field of document.querySelectorAll("input, select, textarea")) {
      if (["hidden", "submit", "button", "reset", "image"].includes(field.type)) continue;
      if (!axe.commons.dom.isVisibleToScreenReaders(field) || !field.getClientRects().length) continue;
      const name = axe.commons.text.accessibleTextVirtual(axe.utils.getNodeFromTree(field)).trim();
      if (!name) unnamed.push(field.outerHTML.slice(0, 160));
    }
    return unnamed;
  } finally {
    axe.teardown();
  }
}"""


def _inject_axe(page):
    """
    Load axe.min.js into the page, from the page's own origin: the portal's Content-Security-Policy
    (script-src 'self') blocks an inline <script> (add_script_tag(path=...)), not a same-origin one. The
    browser context answers AXE_PATH from the vendored file, so the request never reaches the server.
    """
    if page.evaluate("typeof window.axe === 'object'"):
        return
    if not getattr(page.context, "_e2e_serves_axe", False):
        page.context.route(
            f"**{AXE_PATH}",
            lambda route: route.fulfill(path=AXE_SCRIPT, content_type="text/javascript; charset=utf-8"),
        )
        page.context._e2e_serves_axe = True
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    page.add_script_tag(url=origin + AXE_PATH)


def accessibility_violations(page, context=None, *, disabled=()):
    """
    Run axe-core's WCAG 2 A/AA rules on the page (or on `context`: a CSS selector, or an axe context
    object such as {"exclude": [...]}), injecting the vendored axe.min.js first (no network needed).
    Returns the violations rated serious or critical, one readable line per rule; [] when there are
    none. `disabled` switches rules off (false positives only; say why where you do it), never the
    AXE_REQUIRED_RULES, which are checked to have run.
    """
    assert not set(disabled) & set(AXE_REQUIRED_RULES), (
        f"these rules may not be disabled: {AXE_REQUIRED_RULES}"
    )
    _inject_axe(page)
    results = page.evaluate(_AXE_RUN, [context, AXE_TAGS, list(disabled)])
    missing = [rule for rule in AXE_REQUIRED_RULES if rule not in results["ran"]]
    assert not missing, f"axe did not run {missing}"
    lines = []
    for rule in results["violations"]:
        if rule["impact"] not in AXE_BLOCKING_IMPACTS:
            continue
        targets = "; ".join(" ".join(node["target"]) for node in rule["nodes"][:8])
        more = f" (+{len(rule['nodes']) - 8} more)" if len(rule["nodes"]) > 8 else ""
        detail = rule["nodes"][0]["summary"].replace("\n", " ") if rule["nodes"] else ""
        lines.append(
            f"{rule['id']} [{rule['impact']}] {rule['help']} — {targets}{more} — {detail} ({rule['helpUrl']})"
        )
    return lines


def assert_accessible(page, context=None, *, disabled=(), what=None):
    """
    Fail unless axe-core finds no serious or critical WCAG 2 A/AA violation on the page (or in
    `context`) and every visible form field in it has an accessible name. `what` names the page in the
    failure message (default: its URL).
    """
    problems = accessibility_violations(page, context, disabled=disabled)
    problems += [f"form field without an accessible name: {field}" for field in unnamed_form_fields(page)]
    if problems:
        raise AssertionError(f"{what or page.url}:\n    " + "\n    ".join(problems))


def unnamed_form_fields(page):
    """
    The visible input/select/textarea elements (buttons aside) that have no accessible name — no
    <label>, aria-label(ledby) or title — as computed by axe-core; [] when all are named.
    """
    _inject_axe(page)
    return page.evaluate(_UNNAMED_FIELDS)


def wait_for_focus_within(page, selector, *, timeout=10.0):
    """
    Wait until the focused element is `selector`'s element or inside it (e.g. a modal, once Bootstrap has
    moved the focus there). Polls with page.evaluate: page.wait_for_function's own polling evaluates a
    string in the page, which the portal's Content-Security-Policy (no 'unsafe-eval') forbids.
    """
    deadline = time.monotonic() + timeout
    script = "s => { const e = document.querySelector(s); return !!e && e.contains(document.activeElement); }"
    while not page.evaluate(script, selector):
        if time.monotonic() > deadline:
            raise AssertionError(f"the focus never moved into {selector} ({timeout:g} s)")
        page.wait_for_timeout(50)
