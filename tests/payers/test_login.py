import pytest

from payers.models import Person, User

pytestmark = pytest.mark.django_db
PASSWORD = "Shebao@2026"


@pytest.fixture
def citizen():
    person = Person.objects.create(
        name="王小枝", id_type="201", id_number="31010119900101123X", phone="18012341234"
    )
    return User.objects.create_user(username="xiaozhi", password=PASSWORD, phone="18012341234", person=person)


@pytest.mark.parametrize("login", ["xiaozhi", "18012341234", "31010119900101123X", "31010119900101123x"])
def test_citizen_logs_in_with_username_phone_or_id_number(client, citizen, login):
    response = client.post("/accounts/login/", {"username": login, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(citizen.pk)


def test_wrong_password_is_refused_with_a_chinese_message(client, citizen):
    response = client.post("/accounts/login/", {"username": "xiaozhi", "password": "Wrong@2026"})

    assert response.status_code == 200
    assert "账号或密码错误" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_that_matches_two_accounts_logs_in_neither(client, citizen):
    # Another account whose username is this citizen's phone number: ambiguous, so refused.
    User.objects.create_user(username="18012341234", password=PASSWORD)

    assert not client.login(username="18012341234", password=PASSWORD)
