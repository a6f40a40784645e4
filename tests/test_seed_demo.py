from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum
from django.urls import reverse

from contributions.models import Bill, Enrolment, PaidRecord, PayerType
from payers.models import Person, User
from portal import demo
from tests.helpers import current_totp_code, log_in

pytestmark = pytest.mark.django_db

PEOPLE = {person.key: person for person in demo.PEOPLE}


@pytest.fixture
def seeded():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def person(key):
    return Person.objects.get(id_number=PEOPLE[key].id_number)


def test_seed_demo_is_idempotent(seeded):
    counts = [model.objects.count() for model in (Person, User, Enrolment, Bill, PaidRecord)]

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert [model.objects.count() for model in (Person, User, Enrolment, Bill, PaidRecord)] == counts


def test_flexible_worker_has_monthly_bills_paid_together_by_notice(seeded):
    bills = Bill.objects.filter(enrolment__person=person("flexible"))

    assert set(bills.values_list("enrolment__payer_type", flat=True)) == {PayerType.FLEXIBLE}
    assert {(b.period_start.day, b.period_end.month == b.period_start.month) for b in bills} == {(1, True)}
    per_notice = bills.values("notice_number").annotate(n=Count("id"))
    assert len(per_notice) == 2
    assert all(row["n"] == 2 for row in per_notice), "pension and medical share each month's notice"


def test_resident_has_yearly_pension_this_year_and_medical_next_year(seeded):
    bills = {
        b.enrolment.category.item.insurance: b
        for b in Bill.objects.filter(enrolment__person=person("resident"))
    }

    assert bills["medical"].period_start.year == bills["pension"].period_start.year + 1
    for bill in bills.values():
        assert (bill.period_start.month, bill.period_end.month) == (1, 12)


def test_unenrolled_person_has_an_account_but_no_enrolment(seeded):
    unenrolled = person("unenrolled")

    assert unenrolled.account.username == PEOPLE["unenrolled"].username
    assert not unenrolled.enrolments.exists()


def test_payer_with_records_spans_two_years_and_two_tax_authorities(seeded):
    records = PaidRecord.objects.filter(enrolment__person=person("records"))

    assert records.values("tax_authority").distinct().count() == 2
    assert records.values("period_start__year").distinct().count() == 2
    assert all(record.treasury_date for record in records)
    assert isinstance(records.aggregate(total=Sum("amount"))["total"], Decimal)


def test_registry_person_without_account_is_there_to_register(seeded):
    assert not hasattr(person("unregistered"), "account")


def test_demo_logins_work_by_username_phone_and_id_number(seeded, client):
    flexible = PEOPLE["flexible"]
    for login in (flexible.username, flexible.id_number):
        assert log_in(client, login, demo.DEMO_PASSWORD)["Location"] == "/", login
        client.post(reverse("payers:logout"))
    # A phone login goes on to the SMS code step.
    assert log_in(client, flexible.phone, demo.DEMO_PASSWORD)["Location"] == reverse("payers:login_sms")

    # The admin asks for the demo device's code too (the documented demo key).
    staff = User.objects.get(username=demo.STAFF_USERNAME)
    code = current_totp_code(staff)
    credentials = {"username": demo.STAFF_USERNAME, "password": demo.STAFF_PASSWORD, "otp_token": code}
    client.post(reverse("admin:login"), credentials)
    assert client.get("/admin/").status_code == 200


def test_seed_demo_refuses_to_run_in_production(settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not Person.objects.exists()
