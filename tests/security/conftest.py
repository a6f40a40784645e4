import pytest
from django.test import Client

from payers.models import Person, User
from portal import demo
from tests.helpers import log_in_staff


def demo_person(key):
    spec = next(p for p in demo.PEOPLE if p.key == key)
    return Person.objects.get(id_number=spec.id_number)


def demo_user(key):
    return User.objects.get(person=demo_person(key))


@pytest.fixture
def citizen_client(seeded):
    """张灵活, a citizen with bills, logged in."""
    client = Client()
    client.force_login(demo_user("flexible"))
    return client


@pytest.fixture
def staff_client(seeded):
    client = Client()
    return log_in_staff(client, User.objects.get(username=demo.STAFF_USERNAME))


@pytest.fixture
def formatted_logs(caplog):
    """
    Every record from DEBUG up, as the portal's own console handler writes it: a handler with that
    handler's formatter and filters (settings.LOGGING) on the root logger. Returns a callable giving the
    text so far, so a test sees what would reach the log files.
    """
    import io
    import logging

    caplog.set_level(logging.DEBUG)
    root = logging.getLogger()
    console = next((handler for handler in root.handlers if handler.get_name() == "console"), None)
    assert console is not None, "settings.LOGGING has no 'console' handler on the root logger"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(console.formatter)
    for log_filter in console.filters:
        handler.addFilter(log_filter)
    root.addHandler(handler)
    yield stream.getvalue
    root.removeHandler(handler)
