"""
Issue 10, item 8 (headers) — Content-Security-Policy, X-Frame-Options, X-Content-Type-Options,
Referrer-Policy on every response, and HSTS in production.

The policy allows scripts from our own origin only, which holds because no template carries an inline
script, an event-handler attribute or a javascript: URL (test_templates_have_no_inline_script).
"""

import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from payers.models import User
from portal import demo
from tests.helpers import log_in_staff
from tests.security.conftest import demo_user
from tests.security.routes import all_routes
from tests.security.test_access import kind_of, make_mandate
from tests.test_settings import PRODUCTION, run

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
POLICY = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "style-src": "'self' 'unsafe-inline'",
    "script-src": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def policy_of(response):
    header = response.get("Content-Security-Policy", "")
    return dict(directive.strip().partition(" ")[::2] for directive in header.split(";") if directive.strip())


def assert_security_headers(response):
    assert policy_of(response) == POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_every_route_answers_with_the_policy(seeded):
    """GET every route as the user it is for: each answer (HTML, JSON, PDF, redirect, 404) has the policy."""
    clients = {"citizen": Client(), "staff": Client()}
    clients["citizen"].force_login(demo_user("flexible"))
    log_in_staff(clients["staff"], User.objects.get(username=demo.STAFF_USERNAME))
    anonymous = Client()
    missing, html = [], 0
    for route in all_routes():
        response = clients.get(kind_of(route), anonymous).get(route.url)
        html += response.get("Content-Type", "").startswith("text/html") and response.status_code == 200
        if policy_of(response) != POLICY or response.get("X-Frame-Options") != "DENY":
            missing.append(f"{route}: {response.status_code} {response.get('Content-Security-Policy')}")

    assert not missing, "\n".join(missing)
    assert html > 30  # the walk did render pages, not only redirects


def test_a_citizen_page_has_the_security_headers(citizen_client):
    response = citizen_client.get(reverse("contributions:records"))

    assert response.status_code == 200
    assert_security_headers(response)


def test_a_pdf_download_has_the_security_headers(seeded):
    owner = demo_user("flexible")
    [pk] = make_mandate(owner)
    client = Client()
    client.force_login(owner)

    response = client.get(reverse("mandates:letter_pdf", args=[pk]))

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert_security_headers(response)


def test_the_admin_has_the_security_headers(staff_client):
    for url in (reverse("admin:index"), reverse("admin:payers_person_changelist"), reverse("admin:login")):
        response = staff_client.get(url)
        assert response.status_code in {200, 302}, url
        assert_security_headers(response)


SHOW_HEADERS = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz", secure=True, headers={"host": "shebao.example.cn"})
print(json.dumps(dict(response.items())))
"""


def test_production_sends_hsts_and_the_policy(tmp_path):
    done = run(["-c", SHOW_HEADERS], PRODUCTION, tmp_path)
    assert done.returncode == 0, done.stderr
    headers = json.loads(done.stdout.strip().splitlines()[-1])

    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)


def test_templates_have_no_inline_script():
    problems = []
    for directory in TEMPLATE_DIRS:
        for template in directory.rglob("*.html"):
            text = template.read_text()
            name = template.relative_to(ROOT)
            problems += [f"{name}: {tag}" for tag in SCRIPT_TAG.findall(text) if " src=" not in tag]
            problems += [f"{name}: event handler attribute" for _ in HANDLER_ATTRIBUTE.findall(text)]
            problems += [f"{name}: javascript: URL" for _ in re.findall(r"javascript:", text, re.I)]

    assert not problems, "\n".join(problems)
