import pytest
from django.core.management import call_command

from payers.models import Person, User
from portal import demo


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def demo_person(key):
    spec = next(p for p in demo.PEOPLE if p.key == key)
    return Person.objects.get(id_number=spec.id_number)


@pytest.fixture
def flexible(seeded):
    return demo_person("flexible")


@pytest.fixture
def resident(seeded):
    return demo_person("resident")


@pytest.fixture
def flexible_client(client, flexible):
    client.force_login(User.objects.get(person=flexible))
    return client


@pytest.fixture
def not_auto_debit_day(monkeypatch):
    monkeypatch.setattr("contributions.calendar.is_auto_debit_day", lambda day: False)
