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


def run_at_once(*calls, timeout=60):
    """
    Run each callable in its own thread, released together by a barrier, each with its own database
    connections (closed when it ends). Returns what each returned, or the exception it raised, in order.
    """
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(calls), timeout=timeout)
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:  # reported to the test, which decides
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return outcomes


def log_in_staff(client, user):
    """
    Log `client` in as staff the admin lets in: a session verified by the user's confirmed TOTP device
    (django-otp's session key, as the admin login sets it after a right code), enrolling one if needed.
    The one way tests reach the admin; the login page itself is tested in tests/test_admin_otp.py.
    """
    from django_otp import DEVICE_ID_SESSION_KEY

    from portal import totp

    device = totp.staff_device(user) or totp.enrol(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def current_totp_code(user):
    """The 6-digit code the staff user's authenticator app shows now."""
    from portal import totp

    return totp.current_code(totp.staff_device(user))
