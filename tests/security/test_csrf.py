"""
Issue 10, item 3 (first half) — every state-changing form rejects a POST without a CSRF token.

Every route of the URL conf is POSTed without a token by a client that enforces CSRF checks as a
browser's requests are checked, logged in as the route needs (a citizen; staff for the admin). Django's
CsrfViewMiddleware answers before the view, so GET-only views are refused the same way, and the one
thing that lets a POST through is `csrf_exempt`. Two kinds of endpoint are exempt by design, because a
server calls them, not a browser, and each request is signed instead: the payment gateway's
notification and the channel API (/api/channels/, when it is wired in).
"""

import pytest
from django.test import Client
from django.urls import reverse

from payers.models import User
from portal import demo
from tests.helpers import log_in_staff
from tests.security.conftest import demo_user
from tests.security.routes import all_routes
from tests.security.test_access import SIGNED_PREFIX, kind_of

pytestmark = pytest.mark.django_db

CSRF_EXEMPT_BY_DESIGN = {"contributions:gateway_notify"}


def may_be_exempt(route):
    return route.key in CSRF_EXEMPT_BY_DESIGN or route.url.startswith(SIGNED_PREFIX)


def is_exempt(route):
    return getattr(route.callback, "csrf_exempt", False)


def csrf_checking_client(user=None):
    client = Client(enforce_csrf_checks=True)
    if user is not None and user.is_staff:
        log_in_staff(client, user)
    elif user is not None:
        client.force_login(user)
    return client


def test_a_post_without_csrf_token_is_refused_everywhere_but_the_signed_endpoints(seeded):
    users = {"citizen": demo_user("flexible"), "staff": User.objects.get(username=demo.STAFF_USERNAME)}
    clients = {kind: csrf_checking_client(user) for kind, user in users.items()}
    anonymous = csrf_checking_client()
    problems = []
    for route in all_routes():
        if is_exempt(route):
            continue  # allowed only where signed: test_only_the_signed_endpoints_are_csrf_exempt
        client = clients.get(kind_of(route), anonymous)
        response = client.post(route.url, {"action": "send_code"})
        if response.status_code != 403 or b"CSRF" not in response.content:
            problems.append(f"{route}: POST without a CSRF token got {response.status_code}")

    assert not problems, "\n".join(problems)


def test_only_the_signed_endpoints_are_csrf_exempt():
    exempt = [route for route in all_routes() if is_exempt(route)]

    assert [str(route) for route in exempt if not may_be_exempt(route)] == []
    assert "contributions:gateway_notify" in {route.key for route in exempt}


def test_the_exempt_gateway_notification_refuses_an_unsigned_post(seeded):
    response = csrf_checking_client().post(
        reverse("contributions:gateway_notify"),
        {"order_number": "SB1", "amount": "1.00", "status": "SUCCESS"},
    )

    assert response.status_code == 400
    assert response.content == b"fail"


def test_a_form_post_with_the_pages_token_passes_the_check(seeded):
    """The control: the same client gets past the check with the token its page gave it."""
    client = csrf_checking_client(demo_user("flexible"))
    client.get(reverse("certificates:query"))

    response = client.post(
        reverse("certificates:query"),
        {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, "target": "self"},
    )

    assert response.status_code == 200  # the form again, with its errors: past the CSRF check
    assert response.context["form"].errors
