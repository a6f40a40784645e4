"""
Idle timeout (payers/middleware.py): a payer who leaves 缴费证明开具 open longer than
settings.SESSION_IDLE_TIMEOUT is logged out on the next request, told why on the login page, and after
logging in again is back on the page they were on — at desktop and phone widths.

Rather than wait out the timeout, the test moves the session's clock: it sets the session's
"last_seen" (which the middleware keeps) back past the timeout, in the database the live server reads.
"""

import time
from importlib import import_module

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.e2e.helpers import assert_accessible, log_in, log_in_directly, pass_notice, reduce_motion

CERTIFICATE_TILE = "灵活就业及城乡居民社会保险费缴费证明开具"
IDLE_MESSAGE = "长时间未操作，已自动退出，请重新登录"


@pytest.fixture
def page(page):
    """The conftest's page, without Bootstrap's fade transitions (the 办理须知 and 提醒 modals)."""
    reduce_motion(page)
    return page


def idle_for(page, seconds):
    """Make the browser's session look idle for `seconds`: move its "last_seen" back by that much."""
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    assert "last_seen" in session, "the idle-timeout middleware keeps no last_seen in the session"
    session["last_seen"] = int(time.time()) - seconds
    session.save()


def test_idle_timeout_logs_out_then_back_to_the_page(seeded, page, shot):
    log_in_directly(page, "jilu")
    page.goto("/certificates/")
    pass_notice(page, CERTIFICATE_TILE)
    expect(page.get_by_role("heading", name=CERTIFICATE_TILE)).to_be_visible()

    # A minute idle is nothing...
    idle_for(page, 60)
    page.reload()
    expect(page).to_have_url("/certificates/")

    # ...but longer than SESSION_IDLE_TIMEOUT logs the payer out, with the reason, on the next request.
    idle_for(page, settings.SESSION_IDLE_TIMEOUT + 1)
    page.reload()
    expect(page).to_have_url("/accounts/login/?next=/certificates/")
    expect(page.get_by_role("alert").filter(has_text=IDLE_MESSAGE)).to_be_visible()
    expect(page.get_by_role("heading", name="自然人登录")).to_be_visible()
    shot(page, "idle-timeout")
    assert_accessible(page, what="the login page with the idle-timeout message")

    # Logged out for real: another page of the business asks for a login too.
    page.goto("/certificates/downloads/")
    expect(page).to_have_url("/accounts/login/?next=/certificates/downloads/")
    page.goto("/accounts/login/?next=/certificates/")

    log_in(page, "jilu")

    expect(page).to_have_url("/certificates/")
    if page.get_by_role("dialog").count():  # entering the business again shows its 办理须知
        pass_notice(page, CERTIFICATE_TILE)
    expect(page.get_by_role("heading", name=CERTIFICATE_TILE)).to_be_visible()
    expect(page.get_by_role("button", name="查询")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text=IDLE_MESSAGE)).to_have_count(0)
