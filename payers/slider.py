"""
The login page's slider human check, "请按住滑块，拖动到最右边" (guide 1.1.1), verified on the server.

1. The browser asks for a challenge (`issue_challenge`): a random nonce, signed with its issue time. The
   nonce is remembered in the session, so a challenge only counts in the browser session it was issued to.
2. When the handle reaches the end, slider.js posts the challenge and the drag's trace, a list of
   [x, t] points (x: 0..1 of the track, t: ms since the pointer went down). `verify_drag` spends the
   challenge (single use, at most CHALLENGE_MAX_AGE old), checks that the trace looks like a person's,
   and returns a signed pass token, which the page puts into the form's hidden `slider` field.
3. The form (`SliderCheckFormMixin` + `SliderCheckField`) spends the pass with `consume_pass`: once,
   within PASS_MAX_AGE, in the same session.

A keyboard user moves the handle with the arrow keys; that trace is sent with kind "keyboard" and
checked by its own rule (KEYBOARD_MIN_EVENTS key presses over at least MIN_DURATION_MS), because key
repeat moves the handle at a steady speed that the pointer rule would reject.

Verify attempts are limited per session (MAX_ATTEMPTS per ATTEMPT_WINDOW seconds).

Setting: SLIDER_CHECK_ENABLED (default True). When False the `slider` field is optional and always
passes, for tests of other features that post forms carrying the field. Never turn it off in production.
"""

import inspect
import logging
import math
import secrets
import statistics
import time

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.forms.renderers import TemplatesSetting
from django.urls import reverse
from django.utils.crypto import constant_time_compare

logger = logging.getLogger(__name__)

CHALLENGE_SALT = "payers.slider"
PASS_SALT = "payers.slider.pass"  # noqa: S105 - a signing salt, not a secret
CHALLENGE_MAX_AGE = 120  # seconds
PASS_MAX_AGE = 120  # seconds
MAX_OUTSTANDING_CHALLENGES = 5
MAX_ATTEMPTS = 10
ATTEMPT_WINDOW = 300  # seconds

MIN_POINTS = 5
MAX_POINTS = 1000
MIN_DURATION_MS = 300
MAX_DURATION_MS = 60_000
END_X = 0.97  # the handle counts as "at the right end" from here
MIN_TRAVEL = 0.5  # a trace must cover at least half the track
MAX_BACKTRACK = 0.1  # how far behind its furthest point a hand may drift back
MIN_SPEED_VARIATION = 0.05  # coefficient of variation of the speed; a scripted drag has ~0
KEYBOARD_MIN_EVENTS = 5

POINTER = "pointer"
KEYBOARD = "keyboard"

SESSION_CHALLENGES = "slider.challenges"
SESSION_PASS = "slider.pass"  # noqa: S105 - a session key
SESSION_ATTEMPTS = "slider.attempts"

FAILED_MESSAGE = "请按住滑块，拖动到最右边完成验证"


class SliderCheckFailed(Exception):
    """The drag was refused: bad or spent challenge, or a trace that does not look human."""


class SliderRateLimited(SliderCheckFailed):
    """Too many verify attempts in this session lately."""


def is_enabled():
    return getattr(settings, "SLIDER_CHECK_ENABLED", True)


def issue_challenge(request):
    """A signed, single-use challenge bound to this session; the oldest outstanding one is dropped."""
    nonce = secrets.token_urlsafe(16)
    outstanding = request.session.get(SESSION_CHALLENGES, [])
    request.session[SESSION_CHALLENGES] = [*outstanding, nonce][-MAX_OUTSTANDING_CHALLENGES:]
    # signing.dumps() signs the issue time along with the payload; loads(max_age=…) checks it.
    return signing.dumps({"nonce": nonce}, salt=CHALLENGE_SALT)


def verify_drag(request, challenge, trace, kind=POINTER):
    """
    Spend `challenge` and check `trace`; return a pass token valid for PASS_MAX_AGE seconds in this
    session, replacing any earlier pass. Raises SliderRateLimited after MAX_ATTEMPTS attempts in
    ATTEMPT_WINDOW seconds, SliderCheckFailed for anything else that is wrong.
    """
    _count_attempt(request)
    _spend_challenge(request, challenge)
    problem = _trace_problem(trace, kind)
    if problem:
        # `kind` comes from the client: its repr, cut short, so it can neither break the line nor flood it.
        logger.info("slider trace refused (%.24r): %s", kind, problem)
        raise SliderCheckFailed(problem)
    nonce = secrets.token_urlsafe(16)
    request.session[SESSION_PASS] = nonce
    return signing.dumps({"nonce": nonce}, salt=PASS_SALT)


def consume_pass(request, token):
    """True once for an unexpired pass token issued to this session; False otherwise and afterwards."""
    try:
        nonce = signing.loads(token or "", salt=PASS_SALT, max_age=PASS_MAX_AGE)["nonce"]
    except (signing.BadSignature, KeyError, TypeError):
        return False
    expected = request.session.get(SESSION_PASS)
    if not expected or not isinstance(nonce, str) or not constant_time_compare(nonce, expected):
        return False
    del request.session[SESSION_PASS]
    return True


def _count_attempt(request):
    now = time.time()
    recent = [at for at in request.session.get(SESSION_ATTEMPTS, []) if now - at < ATTEMPT_WINDOW]
    if len(recent) >= MAX_ATTEMPTS:
        request.session[SESSION_ATTEMPTS] = recent
        raise SliderRateLimited("too many attempts")
    request.session[SESSION_ATTEMPTS] = [*recent, now]


def _spend_challenge(request, challenge):
    if not isinstance(challenge, str):
        raise SliderCheckFailed("no challenge")
    try:
        nonce = signing.loads(challenge, salt=CHALLENGE_SALT, max_age=CHALLENGE_MAX_AGE)["nonce"]
    except signing.SignatureExpired:
        raise SliderCheckFailed("challenge expired") from None
    except (signing.BadSignature, KeyError, TypeError):
        raise SliderCheckFailed("bad challenge") from None
    outstanding = request.session.get(SESSION_CHALLENGES, [])
    if nonce not in outstanding:
        raise SliderCheckFailed("challenge not issued to this session, or already used")
    outstanding.remove(nonce)
    request.session[SESSION_CHALLENGES] = outstanding


def _trace_problem(trace, kind):
    """Why `trace` does not look like a person finishing the slider, or None."""
    if kind not in (POINTER, KEYBOARD):
        return "unknown kind"
    points = _parse_points(trace)
    if points is None:
        return "malformed trace"
    min_points = KEYBOARD_MIN_EVENTS if kind == KEYBOARD else MIN_POINTS
    if len(points) < min_points:
        return "too few points"
    xs = [x for x, _ in points]
    ts = [t for _, t in points]
    if ts[0] < 0 or any(later <= earlier for earlier, later in zip(ts, ts[1:], strict=False)):
        return "time does not increase"
    duration = ts[-1] - ts[0]
    if duration < MIN_DURATION_MS:
        return "too fast"
    if duration > MAX_DURATION_MS:
        return "too slow"
    if xs[-1] < END_X:
        return "did not reach the end"
    if xs[-1] - xs[0] < MIN_TRAVEL:
        return "too short a drag"
    if kind == KEYBOARD:
        return None
    furthest = 0.0
    for x in xs:
        furthest = max(furthest, x)
        if x < furthest - MAX_BACKTRACK:
            return "moved backwards"
    speeds = [(x2 - x1) / (t2 - t1) for (x1, t1), (x2, t2) in zip(points, points[1:], strict=False)]
    mean = statistics.fmean(speeds)
    if mean <= 0 or statistics.pstdev(speeds) < MIN_SPEED_VARIATION * mean:
        return "constant speed"
    return None


def _parse_points(trace):
    if not isinstance(trace, list) or len(trace) > MAX_POINTS:
        return None
    points = []
    for point in trace:
        if not isinstance(point, list) or len(point) != 2:
            return None
        x, t = point
        if not all(_is_number(value) for value in (x, t)) or not 0 <= x <= 1:
            return None
        points.append((float(x), float(t)))
    return points


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class SliderWidget(forms.Widget):
    """
    The slider: a hidden input that receives the pass token, and the track and handle driven by
    slider.js. Pages must render the form's media (`{{ form.media }}`) for the script and styles.
    """

    template_name = "payers/widgets/slider.html"
    # The template is under the project's templates/, which the default form renderer does not search.
    template_renderer = TemplatesSetting()

    class Media:
        js = [forms.Script("payers/slider.js", defer=True)]
        css = {"all": ["payers/slider.css"]}

    def get_context(self, name, value, attrs):
        # The token is single use: never render one back into the page.
        context = super().get_context(name, None, attrs)
        widget_attrs = context["widget"]["attrs"]
        context["widget"].update(
            invalid="is-invalid" in widget_attrs.get("class", "").split(),
            input_id=widget_attrs.get("id", ""),
            challenge_url=reverse("slider:challenge"),
            verify_url=reverse("slider:verify"),
        )
        return context

    def render(self, name, value, attrs=None, renderer=None):
        return super().render(name, value, attrs, renderer=self.template_renderer)

    def id_for_label(self, id_):
        # The handle (role="slider") carries its own aria-label; a <label for> may not point at it.
        return ""

    def value_omitted_from_data(self, data, files, name):
        return name not in data


class SliderCheckField(forms.CharField):
    """The pass token from the slider. Validate it with SliderCheckFormMixin, which has the request."""

    widget = SliderWidget

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "滑块验证")
        kwargs.setdefault("max_length", 512)
        error_messages = {"required": FAILED_MESSAGE, **kwargs.pop("error_messages", {})}
        super().__init__(error_messages=error_messages, **kwargs)

    def validate(self, value):
        if is_enabled():
            super().validate(value)


class SliderCheckFormMixin:
    """
    Checks the form's `slider` field (a SliderCheckField) against this session's pass. Put it first
    in the bases: `class LoginForm(SliderCheckFormMixin, AuthenticationForm)`. Pass the request
    (`request=` keyword; AuthenticationForm's own `request` argument works too). When the slider
    fails, clean() stops there, so a form such as AuthenticationForm does not even try the password:
    a bot that skips the slider learns nothing.
    """

    def __init__(self, *args, request=None, **kwargs):
        if request is not None and "request" in inspect.signature(super().__init__).parameters:
            kwargs["request"] = request
        super().__init__(*args, **kwargs)
        if getattr(self, "request", None) is None:
            self.request = request
        self.fields["slider"].required = is_enabled()

    def clean_slider(self):
        token = self.cleaned_data.get("slider", "")
        if not is_enabled():
            return token
        if self.request is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs the request to check the slider.")
        if not consume_pass(self.request, token):
            raise ValidationError(FAILED_MESSAGE, code="slider")
        return token

    def clean(self):
        if "slider" in self.errors:
            return self.cleaned_data
        return super().clean()
