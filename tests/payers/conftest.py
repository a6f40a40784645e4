import pytest

from payers.models import Person, User
from tests.helpers import PASSWORD, last_code, log_in, slider_token, solve_captcha  # noqa: F401


@pytest.fixture
def citizen(db):
    person = Person.objects.create(
        name="王小枝", id_type="201", id_number="11010519491231002X", phone="18012341234"
    )
    return User.objects.create_user(username="xiaozhi", password=PASSWORD, phone="18012341234", person=person)
