"""Issue 10, item 2 (sessions) — 12 hours from login at most, and a cookie is dead after logout."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.helpers import PASSWORD, log_in
from tests.security.conftest import demo_user

pytestmark = pytest.mark.django_db
PAGE = "/contributions/records/"


def test_an_active_session_ends_twelve_hours_after_login(seeded):
    """A page every ten minutes keeps the idle check happy; the session still ends at 12 hours."""
    start = timezone.now()
    client = Client()
    with time_machine.travel(start, tick=False):
        log_in(client, demo_user("flexible").username, PASSWORD)
    minutes = 10
    while minutes < 12 * 60:
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(PAGE).status_code == 200, f"logged out after {minutes} minutes"
        minutes += 10

    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_a_session_cookie_replayed_after_logout_is_refused(seeded):
    client = Client()
    log_in(client, demo_user("flexible").username, PASSWORD)
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get(PAGE).status_code == 200

    client.post(reverse("payers:logout"))
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen

    assert replay.get(PAGE).status_code == 302
