"""
Issue 10, item 7 (first half): an error page gives the citizen a 错误编号, never the error itself, and
support staff find that number on the log lines of the request (portal/logs.py, portal/views.py).
"""

import json
import logging
import re

import pytest
from django.test import Client
from django.urls import reverse

from portal.demo import PEOPLE
from portal.logs import current_request_id
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db
FLEXIBLE = next(p for p in PEOPLE if p.key == "flexible")
REFERENCE = re.compile(r"错误编号：<code>([0-9A-Za-z-]+)</code>")


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = "tests.security.failing_urls"


def reference_on(response):
    page = response.content.decode()
    match = REFERENCE.search(page)
    assert match, page
    return match.group(1)


def lines_of(request_id, text):
    return [line for line in text.splitlines() if f"[{request_id}]" in line]


def test_a_failing_view_shows_its_reference_and_the_same_reference_is_on_its_log_line(
    failing_urls, formatted_logs, caplog
):
    response = Client(raise_request_exception=False).get("/test/broken/")

    assert response.status_code == 500
    request_id = reference_on(response)
    assert re.fullmatch(r"[0-9a-f]{8}", request_id)
    assert response["X-Request-ID"] == request_id
    page = response.content.decode()
    assert "系统繁忙，请稍后再试" in page and "12366" in page
    for leak in ("Traceback", "RuntimeError", "lookup of", "FAKE LOG LINE", FLEXIBLE.id_number, "broken.py"):
        assert leak not in page
    error_lines = [line for line in lines_of(request_id, formatted_logs()) if " ERROR " in line]
    assert len(error_lines) == 1 and "django.request Internal Server Error: /test/broken/" in error_lines[0]
    record = next(r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR)
    assert record.request_id == request_id


def test_two_failures_get_two_references(failing_urls):
    client = Client(raise_request_exception=False)

    first, second = (reference_on(client.get("/test/broken/")) for _ in range(2))

    assert first != second


def test_forbidden_bad_request_and_csrf_pages_show_the_reference_of_their_log_line(
    failing_urls, formatted_logs
):
    forbidden = Client().get("/test/forbidden/")
    bad = Client().get("/test/bad/")
    # A login form posted without its CSRF token (a page left open, cookies cleared).
    csrf = Client(enforce_csrf_checks=True).post(
        reverse("payers:login"), {"username": FLEXIBLE.username, "password": PASSWORD}
    )

    assert (forbidden.status_code, bad.status_code, csrf.status_code) == (403, 400, 403)
    assert "您没有办理该事项的权限" in forbidden.content.decode()
    assert "请求无效" in bad.content.decode()
    assert "CSRF" in csrf.content.decode() and "页面已过期" in csrf.content.decode()
    logs = formatted_logs()
    for response, logged in (
        (forbidden, "Forbidden (Permission denied): /test/forbidden/"),
        (bad, "/test/bad/"),
        (csrf, "Forbidden (CSRF cookie not set.): /accounts/login/"),
    ):
        request_id = reference_on(response)
        assert response["X-Request-ID"] == request_id
        assert any(logged in line for line in lines_of(request_id, logs)), (logged, logs)
        assert "malformed" not in response.content.decode() and "staff only" not in response.content.decode()


def test_every_log_line_of_a_request_carries_its_reference(client, formatted_logs):
    # The slider check refuses a trace of an unknown kind: the slider logs it, Django logs the 400.
    challenge = client.get(reverse("slider:challenge")).json()["challenge"]
    response = client.post(
        reverse("slider:verify"),
        data=json.dumps({"challenge": challenge, "trace": [], "kind": "mouse"}),
        content_type="application/json",
    )

    assert response.status_code == 400
    lines = lines_of(response["X-Request-ID"], formatted_logs())
    assert [line.split("] ")[1].split(" ")[0] for line in lines] == ["payers.slider", "django.request"]


def test_every_response_names_its_request_and_a_proxys_id_is_kept_only_when_harmless(client):
    fresh = client.get(reverse("home"))
    from_proxy = client.get(reverse("home"), HTTP_X_REQUEST_ID="5f0c3a9e-1d2b-4c8e-9a7f-3b6d2e1f0a4c")
    forged = client.get(reverse("home"), HTTP_X_REQUEST_ID="abc\r\nFAKE LOG LINE")
    scripted = client.get(reverse("home"), HTTP_X_REQUEST_ID="<script>alert(1)</script>")

    assert re.fullmatch(r"[0-9a-f]{8}", fresh["X-Request-ID"])
    assert from_proxy["X-Request-ID"] == "5f0c3a9e-1d2b-4c8e-9a7f-3b6d2e1f0a4c"
    for response in (forged, scripted):
        assert re.fullmatch(r"[0-9a-f]{8}", response["X-Request-ID"])
    assert current_request_id() == "-"  # forgotten once the request is finished
