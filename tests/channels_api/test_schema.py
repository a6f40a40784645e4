"""The published OpenAPI schema, the docs page, and a schemathesis run against the schema: no 5xx."""

import io
from urllib.parse import quote

import pytest
import schemathesis
from channel_client import sign_request
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from contributions.models import PaymentChannel
from tests.channels_api.conftest import ALL_OPERATIONS, identity

SCHEMA_PATH = "/api/channels/v1/schema/"
OPERATIONS = {
    ("post", "/api/channels/v1/enrolments/query"),
    ("post", "/api/channels/v1/bills/query"),
    ("post", "/api/channels/v1/orders"),
    ("get", "/api/channels/v1/orders/{order_number}"),
    ("post", "/api/channels/v1/orders/{order_number}/payment-result"),
    ("post", "/api/channels/v1/mandates"),
    ("post", "/api/channels/v1/mandates/query"),
    ("post", "/api/channels/v1/mandates/revoke"),
    ("post", "/api/channels/v1/certificates"),
    ("post", "/api/channels/v1/certificates/records"),
    ("post", "/api/channels/v1/certificates/query"),
    ("get", "/api/channels/v1/certificates/{id}/pdf"),
}


def test_schema_is_openapi_3_with_every_operation(client):
    response = client.get(SCHEMA_PATH)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    found = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert found == OPERATIONS
    assert set(schema["components"]["securitySchemes"]) == {
        "X-Channel-Key",
        "X-Timestamp",
        "X-Nonce",
        "X-Signature",
    }
    create = schema["paths"]["/api/channels/v1/orders"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in create["parameters"])


def test_schema_in_yaml_too(client):
    response = client.get(SCHEMA_PATH, {"format": "yaml"})

    assert response.status_code == 200
    assert b"openapi: 3." in response.content


def test_docs_page_lists_the_operations_without_anything_from_outside(client):
    response = client.get("/api/channels/v1/docs/")

    page = response.content.decode()
    assert response.status_code == 200
    for summary in (
        "查询参保信息",
        "查询应缴信息",
        "创建缴费订单",
        "通知支付结果",
        "签订委托扣款协议",
        "缴费证明下载",
    ):
        assert summary in page
    assert "X-Signature" in page and "Idempotency-Key" in page
    assert "http://" not in page.replace("http://testserver", "") and "https://" not in page
    assert "<script" not in page


# schemathesis --------------------------------------------------------------------------------------------


class SigningMiddleware:
    """Signs each request schemathesis sends, as a channel would, so the operations run for real."""

    def __init__(self, app, key_id, secret):
        self.app, self.key_id, self.secret = app, key_id, secret

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/")
        url = f"http://localhost{path}?{environ.get('QUERY_STRING', '')}"
        for name, value in sign_request(
            self.secret, self.key_id, environ["REQUEST_METHOD"], url, body
        ).items():
            environ[f"HTTP_{name.upper().replace('-', '_')}"] = value
        return self.app(environ, start_response)


@pytest.fixture
def wsgi_app():
    # As Django's test client does: the test's transaction must survive the handler's request signals.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def unsigned_schema(db, wsgi_app):
    return schemathesis.openapi.from_wsgi(SCHEMA_PATH, wsgi_app)


@pytest.fixture
def signed_schema(db, wsgi_app, seeded, make_credential, not_auto_debit_day, monkeypatch):
    monkeypatch.setattr("certificates.tasks.make_certificate.delay", lambda pk: None)
    credential, secret = make_credential(
        PaymentChannel.SUISHENBAN, operations=ALL_OPERATIONS, rate_limit=10**6
    )
    return schemathesis.openapi.from_wsgi(SCHEMA_PATH, SigningMiddleware(wsgi_app, credential.key_id, secret))


def fuzz(schema, *, max_examples, people=()):
    """
    Every operation, with data that fits the schema and data that does not; each response is checked for
    server errors. (schemathesis' pytest decorator does not run on pytest 9, so Hypothesis drives it here.)
    With `people`, half of the bodies that fit the schema name one of them, so that requests get past
    the registry to the business rules. Returns the (operation, status) pairs seen.
    """
    seen = []

    def with_person(case):
        if people and isinstance(case.body, dict) and "id_number" in case.body and len(seen) % 2:
            case.body.update(people[len(seen) % len(people)])

    def checker(operation, mode):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=max_examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case):
            if mode == GenerationMode.POSITIVE:
                with_person(case)
            response = case.call_and_validate(checks=[not_a_server_error])
            seen.append((operation.label, response.status_code))

        return check

    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            checker(result.ok(), mode)()
    return seen


def test_unsigned_requests_are_refused_without_server_errors(unsigned_schema):
    seen = fuzz(unsigned_schema, max_examples=5)

    assert {label for label, _ in seen} == {f"{m.upper()} {p}" for m, p in OPERATIONS}
    assert {status for _, status in seen} <= {401, 404}


def test_signed_requests_never_get_a_server_error(signed_schema):
    people = [identity(key) for key in ("flexible", "resident", "records", "unenrolled")]
    seen = fuzz(signed_schema, max_examples=30, people=people)

    statuses = {status for _, status in seen}
    assert max(statuses) < 500
    # Signed by the middleware, the requests reach validation and the services, not just the door.
    assert 401 not in statuses
    assert {200, 400, 422} <= statuses
