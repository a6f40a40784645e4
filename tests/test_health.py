import pytest
from django.db import OperationalError, connection

from portal.celery import app

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_naming_the_broker_when_it_is_down(client, monkeypatch):
    connect = app.connection_for_write
    # Nothing listens on port 9.
    monkeypatch.setattr(app, "connection_for_write", lambda: connect("redis://127.0.0.1:9/0"))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["broker"].startswith("down: ")


def test_healthz_is_503_naming_the_database_when_it_is_down(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"database": "down: OperationalError", "broker": "ok"}


def test_healthz_only_answers_reads(client):
    assert client.post("/healthz").status_code == 405
