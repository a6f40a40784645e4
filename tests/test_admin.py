import pytest
from django.core.management import call_command
from django.urls import reverse

from contributions.models import Bill, Enrolment, PaidRecord
from payers.models import Person, User
from portal import demo
from tests.helpers import log_in_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return log_in_staff(client, User.objects.get(username=demo.STAFF_USERNAME))


@pytest.mark.parametrize("model", [Person, User, Enrolment, Bill, PaidRecord])
def test_admin_lists_mask_personal_data(staff_client, model, django_assert_max_num_queries):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    with django_assert_max_num_queries(12):
        response = staff_client.get(url)

    page = response.content.decode()
    assert response.status_code == 200
    for person in demo.PEOPLE:
        assert person.name not in page
        assert person.id_number not in page


def test_staff_find_a_person_by_full_id_number(staff_client):
    flexible = demo.PEOPLE[0]

    response = staff_client.get(reverse("admin:payers_person_changelist"), {"q": flexible.id_number})

    assert response.context["cl"].result_count == 1
