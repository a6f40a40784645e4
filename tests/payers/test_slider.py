import datetime as dt
import json
import random

import pytest
import time_machine
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core import signing
from django.test import Client, RequestFactory
from django.urls import reverse

from payers.slider import SliderCheckField, SliderCheckFormMixin, consume_pass

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.payers.slider_test_urls")]

MESSAGE = "请按住滑块，拖动到最右边完成验证"


def human_trace(*, seed=7, duration=1200.0, reach=1.0):
    """A hand's drag: speeds up then slows down, with uneven event spacing and a little tremor."""
    rng = random.Random(seed)
    points, t = [[0.0, 0.0]], 0.0
    while t < duration:
        t += rng.uniform(8, 24)
        progress = min(t / duration, 1.0)
        eased = progress * progress * (3 - 2 * progress)
        x = max(points[-1][0], min(1.0, reach * eased + rng.uniform(-0.01, 0.01)))
        points.append([round(x, 4), round(t, 1)])
    points.append([reach, round(t + 30, 1)])
    return points


def robot_trace():
    """What a naive script sends: equal steps at equal intervals."""
    return [[i / 20, i * 50.0] for i in range(21)]


def keyboard_trace():
    """Right arrow held down: a press, the repeat delay, then OS key repeats."""
    times = [0.0, 500.0, 533.0, 566.0, 600.0, 633.0, 666.0, 700.0, 733.0, 766.0]
    return [[round(0.1 * (i + 1), 4), t] for i, t in enumerate(times)]


def steady_keyboard_trace():
    """Ten right-arrow presses exactly 40 ms apart: as steady as a script, yet a person's keys."""
    return [[round(0.1 * (i + 1), 4), i * 40.0] for i in range(10)]


def get_challenge(client):
    return client.get(reverse("slider:challenge")).json()["challenge"]


def verify(client, challenge, trace, kind=None, **extra):
    body = {"challenge": challenge, "trace": trace}
    if kind:
        body["kind"] = kind
    return client.post(reverse("slider:verify"), json.dumps(body), content_type="application/json", **extra)


def pass_token(client):
    response = verify(client, get_challenge(client), human_trace())
    assert response.status_code == 200, response.content
    return response.json()["token"]


def session_request(client):
    request = RequestFactory().get("/")
    request.session = client.session
    return request


class DemoForm(SliderCheckFormMixin, forms.Form):
    slider = SliderCheckField()


class SliderLoginForm(SliderCheckFormMixin, AuthenticationForm):
    slider = SliderCheckField()


def test_challenge_is_json_and_never_cached(client):
    response = client.get(reverse("slider:challenge"))

    assert response.status_code == 200
    assert response.json()["challenge"]
    assert "no-store" in response["Cache-Control"]


def test_human_drag_earns_a_pass_that_the_form_accepts_once(client):
    token = pass_token(client)
    request = session_request(client)

    assert consume_pass(request, token) is True
    assert consume_pass(request, token) is False


def test_pass_is_single_use_through_the_form(client):
    token = pass_token(client)

    first = client.post(reverse("slider_demo"), {"slider": token})
    second = client.post(reverse("slider_demo"), {"slider": token})

    assert "验证通过，表单已提交" in first.content.decode()
    assert MESSAGE in second.content.decode()


def test_challenge_is_single_use(client):
    challenge = get_challenge(client)

    assert verify(client, challenge, human_trace()).status_code == 200
    replay = verify(client, challenge, human_trace(seed=8))

    assert replay.status_code == 400
    assert replay.json() == {"error": "验证失败，请重试"}


def test_expired_challenge_is_refused(client):
    challenge = get_challenge(client)

    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=121)):
        response = verify(client, challenge, human_trace())

    assert response.status_code == 400


def test_expired_pass_is_refused(client):
    token = pass_token(client)

    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=121)):
        assert consume_pass(session_request(client), token) is False


def test_challenge_from_another_session_is_refused(client):
    challenge = get_challenge(client)
    other = Client()
    get_challenge(other)

    assert verify(other, challenge, human_trace()).status_code == 400


def test_pass_from_another_session_is_refused(client):
    token = pass_token(client)
    other = Client()
    pass_token(other)

    assert consume_pass(session_request(other), token) is False


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "x" + token,
        lambda token: "",
        lambda token: None,
        # Well signed but never issued to this session.
        lambda token: signing.dumps({"nonce": "forged"}, salt="payers.slider.pass"),
        # A challenge is not a pass (different salt).
        lambda token: signing.dumps({"nonce": "forged"}, salt="payers.slider"),
    ],
    ids=["signature", "prefix", "empty", "none", "forged-nonce", "wrong-salt"],
)
def test_forged_or_tampered_pass_is_refused(client, tamper):
    token = pass_token(client)
    request = session_request(client)

    assert consume_pass(request, tamper(token)) is False
    assert consume_pass(request, token) is True


def test_tampered_challenge_is_refused(client):
    challenge = get_challenge(client)

    assert (
        verify(client, challenge[:-1] + ("A" if challenge[-1] != "A" else "B"), human_trace()).status_code
        == 400
    )


@pytest.mark.parametrize(
    "trace",
    [
        pytest.param(robot_trace(), id="constant-velocity-robot"),
        pytest.param(human_trace(duration=150.0), id="too-fast"),
        pytest.param(human_trace(reach=0.8), id="not-reaching-the-end"),
        pytest.param(human_trace()[:3] + [[1.0, 900.0]], id="too-few-points"),
        pytest.param([[0.0, 0.0], [0.5, 400.0], [0.3, 500.0], [0.8, 700.0], [1.0, 900.0]], id="backwards"),
        pytest.param([[0.0, 0.0], [0.3, 200.0], [0.6, 200.0], [0.8, 500.0], [1.0, 700.0]], id="time-stands"),
        pytest.param(human_trace(duration=61_000.0), id="too-slow"),
        pytest.param(
            [[0.0, 0.0], [0.4, 200.0], [1.5, 300.0], [1.0, 500.0], [1.0, 800.0]], id="x-out-of-range"
        ),
        pytest.param("not a list", id="malformed"),
        pytest.param([[True, 1], [0.2, 50], [0.5, 100], [0.9, 300], [1.0, 400]], id="not-numbers"),
    ],
)
def test_implausible_trace_is_refused(client, trace):
    response = verify(client, get_challenge(client), trace)

    assert response.status_code == 400
    assert response.json() == {"error": "验证失败，请重试"}


@pytest.mark.parametrize("trace", [keyboard_trace(), steady_keyboard_trace()], ids=["held", "steady"])
def test_keyboard_path_is_accepted(client, trace):
    response = verify(client, get_challenge(client), trace, kind="keyboard")

    assert response.status_code == 200
    assert consume_pass(session_request(client), response.json()["token"]) is True


def test_steady_keyboard_path_is_only_accepted_as_keyboard(client):
    # Key repeat can move at a constant speed, which the pointer rule refuses as a script's.
    assert verify(client, get_challenge(client), steady_keyboard_trace()).status_code == 400


@pytest.mark.parametrize(
    "trace",
    [
        pytest.param([[1.0, 0.0]], id="a-single-end-press"),
        pytest.param([[0.2, 0.0], [0.4, 50.0], [0.6, 100.0], [0.8, 150.0], [1.0, 200.0]], id="too-fast"),
        pytest.param([[0.1, 0.0], [0.2, 500.0], [0.3, 600.0], [0.4, 700.0], [0.5, 800.0]], id="not-at-end"),
    ],
)
def test_implausible_keyboard_path_is_refused(client, trace):
    assert verify(client, get_challenge(client), trace, kind="keyboard").status_code == 400


def test_unknown_kind_is_refused(client):
    assert verify(client, get_challenge(client), human_trace(), kind="telepathy").status_code == 400


def test_verify_without_csrf_token_is_refused():
    browser = Client(enforce_csrf_checks=True)
    challenge = get_challenge(browser)

    assert verify(browser, challenge, human_trace()).status_code == 403
    accepted = verify(browser, challenge, human_trace(), HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert accepted.status_code == 200


def test_verify_only_accepts_post(client):
    assert client.get(reverse("slider:verify")).status_code == 405


def test_verify_attempts_are_rate_limited_per_session(client):
    for _ in range(10):
        assert verify(client, get_challenge(client), robot_trace()).status_code == 400

    response = verify(client, get_challenge(client), human_trace())

    assert response.status_code == 429
    assert response.json() == {"error": "操作过于频繁，请稍后再试"}
    assert verify(Client(), "x", human_trace()).status_code == 400  # other sessions are not affected
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=5, seconds=1)):
        assert verify(client, get_challenge(client), human_trace()).status_code == 200


def test_garbage_body_is_refused(client):
    response = client.post(reverse("slider:verify"), b"\xff{", content_type="application/json")

    assert response.status_code == 400


def test_form_without_a_pass_is_invalid_with_the_chinese_message(client):
    request = session_request(client)

    for data in ({}, {"slider": "nonsense"}):
        form = DemoForm(data, request=request)
        assert not form.is_valid()
        assert form.errors["slider"] == [MESSAGE]


def test_form_with_a_pass_is_valid(client):
    token = pass_token(client)

    assert DemoForm({"slider": token}, request=session_request(client)).is_valid()


def test_form_passes_without_a_token_when_the_check_is_disabled(client, settings):
    settings.SLIDER_CHECK_ENABLED = False

    form = DemoForm({}, request=session_request(client))

    assert form.is_valid()
    assert not form.fields["slider"].required


def test_login_form_does_not_try_the_password_without_a_pass(client, django_user_model):
    user = django_user_model.objects.create_user(username="xiaozhi", password="Shebao@2026")
    data = {"username": "xiaozhi", "password": "Shebao@2026"}

    refused = SliderLoginForm(session_request(client), data=data)
    assert not refused.is_valid()
    assert list(refused.errors) == ["slider"]  # no password verdict: nothing to learn by skipping the slider
    assert refused.get_user() is None

    data["slider"] = pass_token(client)
    accepted = SliderLoginForm(request=session_request(client), data=data)
    assert accepted.is_valid(), accepted.errors
    assert accepted.get_user() == user


def test_page_renders_the_slider_and_its_media(client):
    content = client.get(reverse("slider_demo")).content.decode()

    assert "滑块验证" in content
    assert "请按住滑块，拖动到最右边" in content
    assert 'role="slider"' in content
    assert 'aria-label="滑块验证"' in content
    assert 'aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"' in content
    assert '<input type="hidden" name="slider" value="" id="id_slider"' in content
    assert f'data-challenge-url="{reverse("slider:challenge")}"' in content
    assert '<script src="/static/payers/slider.js" defer></script>' in content
    assert 'href="/static/payers/slider.css"' in content
    assert "<script>" not in content  # no inline scripts


def test_refused_form_marks_the_slider_invalid_and_renders_no_token(client):
    content = client.post(reverse("slider_demo"), {"slider": "stale-token"}).content.decode()

    assert MESSAGE in content
    assert "portal-slider is-invalid" in content
    assert "stale-token" not in content
