"""
Issue 10, item 1 — access control, for every route of the URL conf (walked, not listed by hand):

- a short allow-list of public routes, each with the reason it is public;
- the admin: staff only; anonymous users and citizens are sent to the admin's login;
- the channel API under /api/channels/: authenticated by each request's signature, not by a session, so
  an unsigned request gets 401 (its public documentation and its JSON 404 aside);
- everything else: anonymous users are sent to the login page.

A new view that is in none of these fails `test_every_route_is_public_by_name_or_protected`. Routes
that take an object id answer 404 to a second citizen account.
"""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse

from certificates import services as certificate_services
from certificates.models import InsuranceFilter
from contributions import services as contribution_services
from contributions.models import Bill, BillKind, PaidRecord, PaymentChannel, PaymentMethod
from mandates import services as mandate_services
from mandates.models import MandateChannel
from tests.security.conftest import demo_user
from tests.security.routes import all_routes

pytestmark = pytest.mark.django_db

PUBLIC = {
    "home": "首页: the portal's front page",
    "healthz": "the load balancer's probe; says ok or down, nothing else",
    "payers:login": "登录",
    "payers:login_sms": "登录 step 2 (SMS code): before login by nature; needs the password step's session state",
    "payers:logout": "退出: POST only, harmless without a session",
    "payers:register": "注册: choice of online or 注册码",
    "payers:register_agreement": "在线注册 step 1",
    "payers:register_identity": "在线注册 step 2: image captcha, session state of step 1",
    "payers:register_code": "注册码注册: image captcha",
    "payers:register_account": "注册 last step: needs the identity step's session state and an SMS code",
    "payers:register_done": "注册成功 (a static page)",
    "payers:password_reset": "找回密码: the same answer whether or not the account exists",
    "payers:password_reset_confirm": "找回密码 step 2: needs step 1's session state and the SMS code",
    "payers:terms": "《用户服务协议》",
    "payers:privacy": "《个人信息保护告知同意书》",
    "slider:challenge": "the login page's slider check",
    "slider:verify": "the login page's slider check (CSRF protected, rate limited)",
    "captcha-image": "the registration captcha image",
    "captcha-image-2x": "the registration captcha image",
    "captcha-audio": "the registration captcha, spoken",
    "captcha-refresh": "a new registration captcha",
    "certificate_verify": "printed in each certificate's QR code; masked minimal facts, 120-bit code",
    "contributions:gateway_notify": "the payment gateway's notification: authenticated by its signature",
    "unionpay_sandbox:pay": "the sandbox gateway's own cashier page, by an unguessable trade number",
    "mandates:blank_template": "《社会保险费扣费授权书》 blank, for signing at a bank counter",
    "admin:login": "the admin's login page",
}
# Public routes of parts that may not be wired into the URL conf yet.
PUBLIC_WHEN_PRESENT = {
    "channels_api:schema": "the channel API's OpenAPI schema, published to the channels",
    "channels_api:docs": "the channel API's documentation",
    "channels_api.views.unknown_path": "the channel API's JSON 404 for any other path: nothing behind it",
}
# The channel API authenticates each request by its signature (channels_api.authentication), not by a
# session: no login redirect, an unsigned request is refused with 401.
SIGNED_PREFIX = "/api/channels/"

# Citizen routes that take an object id, and how to make such an object for 张灵活 (the owner).
OWNED = {
    "contributions:payment": "payment",
    "mandates:letter_pdf": "mandate",
    "mandates:letter_print": "mandate",
    "certificates:download": "certificate",
    "certificates:retry": "failed certificate",
}
# Citizen routes with a parameter that is not an object of anybody's.
NOT_OWNED = {
    "dismiss_notice": "a notice's key, the same for every account; the dismissal is kept per account",
}


def kind_of(route):
    if route.key in PUBLIC or route.key in PUBLIC_WHEN_PRESENT:
        return "public"
    if route.url.startswith(SIGNED_PREFIX):
        return "signed"
    if route.namespace.split(":")[0] == "admin":
        return "staff"
    return "citizen"


def request(client, url):
    """GET; for a view that only takes POST, POST (the CSRF check is off in this client)."""
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    return response


def redirect_path(response):
    return urlsplit(response.get("Location", "")).path if response.status_code == 302 else None


def protection_problem(route, *, anonymous, citizen):
    """Why `route` is not protected as its kind requires, or None."""
    kind = kind_of(route)
    if kind == "public":
        return None
    response = request(anonymous, route.url)
    got = f"anonymous got {response.status_code} {response.get('Location', '')}".rstrip()
    if kind == "signed":
        return None if response.status_code == 401 else f"{route}: signed API route, unsigned request {got}"
    if kind == "staff":
        expected = {reverse("admin:login")}
        if route.key == "admin:logout":
            # The admin's logout sends a visitor without a staff session to the index, itself staff only.
            expected.add(reverse("admin:index"))
        if redirect_path(response) not in expected:
            return f"{route}: staff only, but {got}"
        by_citizen = request(citizen, route.url)
        if redirect_path(by_citizen) not in expected:
            return f"{route}: staff only, but a citizen got {by_citizen.status_code}"
        return None
    if redirect_path(response) != resolve_url(settings.LOGIN_URL) or "next" not in parse_qs(
        urlsplit(response["Location"]).query
    ):
        return f"{route}: neither in the public allow-list nor protected ({got})"
    return None


def test_every_route_is_public_by_name_or_protected(citizen_client):
    routes = all_routes()
    anonymous = Client()

    problems = [
        problem
        for route in routes
        if (problem := protection_problem(route, anonymous=anonymous, citizen=citizen_client))
    ]

    assert not problems, "\n".join(problems)
    kinds = {kind_of(route) for route in routes}
    assert {"public", "staff", "citizen"} <= kinds


def test_the_public_allow_list_names_only_existing_routes():
    keys = {route.key for route in all_routes()}

    assert set(PUBLIC) - keys == set()


def test_a_new_unprotected_view_fails_the_walk(settings, citizen_client):
    settings.ROOT_URLCONF = "tests.security.leaky_urls"
    leak = next(route for route in all_routes() if route.key == "leak")

    problem = protection_problem(leak, anonymous=Client(), citizen=citizen_client)

    assert problem and "neither in the public allow-list nor protected" in problem


def test_the_channel_api_refuses_unsigned_requests_when_present():
    """Runs whatever the URL conf: with the channel API wired in, every signed route answers 401."""
    signed = [route for route in all_routes() if kind_of(route) == "signed"]
    for route in signed:
        assert Client().get(route.url).status_code == 401, route
        assert Client().post(route.url, data="{}", content_type="application/json").status_code == 401, route


# Object ids -----------------------------------------------------------------------------------------


def owned_routes():
    return sorted(route.key for route in all_routes() if kind_of(route) == "citizen" and route.has_parameters)


def test_every_citizen_route_with_an_id_has_an_ownership_case():
    assert set(owned_routes()) == set(OWNED) | set(NOT_OWNED)


def make_payment(owner):
    person = owner.person
    bills = Bill.objects.filter(enrolment__person=person, kind=BillKind.DAILY)
    notices = sorted(set(bills.values_list("notice_number", flat=True)))
    payment = contribution_services.start_payment(
        person=person,
        notice_numbers=notices,
        method=PaymentMethod.CARD,
        channel=PaymentChannel.PORTAL,
        paid_by=owner,
    )
    return [payment.order_number]


def make_mandate(owner):
    person = owner.person
    mandate = mandate_services.sign_mandate(
        person=person,
        bank="ICBC",
        account_number="6222021001150017009",  # 张灵活's account at the sandbox bank (seed_demo)
        reserved_phone=person.phone,
        channel=MandateChannel.ONLINE,
    )
    return [mandate.pk]


def make_certificate(owner, *, made=True):
    """A certificate of 赵记录's first records, made (制作成功) or failed (制作失败)."""
    person = owner.person
    records = PaidRecord.objects.filter(enrolment__person=person, treasury_date__isnull=False)
    record = records.earliest("period_start")
    certificate = certificate_services.apply_for_certificate(
        applicant=owner,
        person=person,
        period_start=datetime.date(2019, 1, 1),
        period_end=record.period_end,
        insurance=InsuranceFilter.ALL,
        tax_authority=record.tax_authority,
    )
    if made:
        certificate_services.make_certificate(certificate.pk)
    else:
        certificate_services.mark_failed(certificate.pk, "渲染失败")
    return [certificate.pk]


MAKERS = {
    "payment": ("flexible", make_payment),
    "mandate": ("flexible", make_mandate),
    # 赵记录 has paid records in the treasury.
    "certificate": ("records", make_certificate),
    "failed certificate": ("records", lambda owner: make_certificate(owner, made=False)),
}


@pytest.mark.usefixtures("not_auto_debit_day")
@pytest.mark.parametrize("name", sorted(OWNED))
def test_a_second_account_gets_404_for_anothers_object(seeded, name):
    owner_key, make = MAKERS[OWNED[name]]
    owner = demo_user(owner_key)
    url = reverse(name, args=make(owner))
    method = "post" if name == "certificates:retry" else "get"
    owner_client, other_client = Client(), Client()
    owner_client.force_login(owner)
    other_client.force_login(demo_user("resident"))

    assert getattr(owner_client, method)(url).status_code in {200, 302}
    assert getattr(other_client, method)(url).status_code == 404


def test_a_citizen_without_identity_gets_404_for_a_mandate_letter(seeded):
    """An account not linked to a person (person_id None) must not match mandates with no person either."""
    [pk] = make_mandate(demo_user("flexible"))
    bare = demo_user("unenrolled")
    bare.person = None
    bare.save(update_fields=["person"])
    client = Client()
    client.force_login(bare)

    assert client.get(reverse("mandates:letter_pdf", args=[pk])).status_code == 404


def test_staff_pages_refuse_a_citizen(citizen_client, staff_client):
    for url in (reverse("admin:index"), reverse("admin:payers_person_changelist")):
        response = citizen_client.get(url)
        assert redirect_path(response) == reverse("admin:login"), url
        assert staff_client.get(url).status_code == 200, url
