"""Helpers for tests that go through the account pages as a person would."""

import json

from django.urls import reverse

PASSWORD = "Shebao@2026"

# A hand's drag: uneven steps and pauses, reaching the right end of the track.
HUMAN_TRACE = [
    [0.0, 0],
    [0.04, 40],
    [0.13, 95],
    [0.27, 150],
    [0.41, 230],
    [0.58, 290],
    [0.7, 380],
    [0.86, 430],
    [0.93, 520],
    [1.0, 610],
]


def slider_token(client):
    """Pass the login page's slider check the way the browser does; returns the pass token."""
    challenge = client.get(reverse("slider:challenge")).json()["challenge"]
    response = client.post(
        reverse("slider:verify"),
        data=json.dumps({"challenge": challenge, "trace": HUMAN_TRACE}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def log_in(client, login, password=PASSWORD, **extra):
    """POST the login page with a passed slider check."""
    data = {"username": login, "password": password, "slider": slider_token(client), **extra}
    return client.post(reverse("payers:login"), data)


def solve_captcha(client, url):
    """Open the form at `url` and read its image captcha's answer from the captcha store, as a person would read the image."""
    import re

    from captcha.models import CaptchaStore

    page = client.get(url).content.decode()
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', page).group(1)
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}


def last_code(phone):
    """The code in the last SMS sent to `phone` (the simulated gateway's outbox)."""
    from payers.models import SmsMessage

    body = SmsMessage.objects.filter(phone=phone).latest("sent_at", "id").body
    return body.split("验证码：")[1][:6]
