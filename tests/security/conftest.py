import pytest
from django.core.management import call_command
from django.test import Client

from payers.models import Person, User
from portal import demo


def demo_person(key):
    spec = next(p for p in demo.PEOPLE if p.key == key)
    return Person.objects.get(id_number=spec.id_number)


def demo_user(key):
    return User.objects.get(person=demo_person(key))


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.fixture
def not_auto_debit_day(monkeypatch):
    monkeypatch.setattr("contributions.calendar.is_auto_debit_day", lambda day: False)


@pytest.fixture
def citizen_client(seeded):
    """张灵活, a citizen with bills, logged in."""
    client = Client()
    client.force_login(demo_user("flexible"))
    return client


@pytest.fixture
def staff_client(seeded):
    client = Client()
    client.force_login(User.objects.get(username=demo.STAFF_USERNAME))
    return client
