"""SPEC rule 13: idle sessions expire after 15 minutes; the user logs in again and returns to the page."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.helpers import log_in

pytestmark = pytest.mark.django_db
PAGE = "/certificates/"


@pytest.fixture(autouse=True)
def no_sms_step(settings):
    settings.LOGIN_SMS_STEP_FOR_PHONE = False


def test_activity_within_fifteen_minutes_keeps_the_session(client, citizen):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        log_in(client, "xiaozhi")
    for minutes in (10, 20, 30):  # every visit within 15 minutes of the previous one
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(PAGE).status_code == 200


def test_fifteen_idle_minutes_log_out_and_return_after_login(client, citizen):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        log_in(client, "xiaozhi")
        client.get(PAGE)

    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        response = client.get(PAGE)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('payers:login')}?next={PAGE}"
        assert "_auth_user_id" not in client.session

        page = client.get(response["Location"]).content.decode()
        assert "长时间未操作，已自动退出，请重新登录" in page

        back = log_in(client, "xiaozhi", next=PAGE)
        assert back["Location"] == PAGE


def test_sessions_end_after_twelve_hours_whatever_the_activity(settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
