"""
Issue 10 — the audit trail of staff views and changes of personal data (audit.AuditEntry, written by
audit.admin.AuditedAdmin): one row per admin request, with the staff user, the client address, the
action, the model and objects, a masked description and, for a change, the field names only.
"""

import contextlib
import datetime
import io

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from audit.admin import AuditedAdmin
from audit.models import AuditAction, AuditEntry
from bank_sandbox.models import SandboxAccount
from contributions.models import Bill, BillKind, BillStatus
from mandates.models import Mandate
from payers.models import IdType, Person, User
from portal import demo
from portal.masking import mask_id_number
from tests.helpers import log_in_staff

pytestmark = pytest.mark.django_db
FLEXIBLE = next(p for p in demo.PEOPLE if p.key == "flexible")
ICBC_ACCOUNT = "6222021001150017009"  # 张灵活's card in the bank sandbox

# Registered models that hold no personal data, each with the reason; every other admin must be audited.
NOT_PERSONAL = {
    "auth.group": "permission groups",
    "audit.auditentry": "the trail itself: masked already, read-only",
    "contributions.agency": "reference data",
    "contributions.taxauthority": "reference data",
    "contributions.taxoffice": "reference data",
    "contributions.levyitem": "reference data",
    "contributions.levycategory": "reference data",
    "contributions.levysubcategory": "reference data",
    "contributions.calendarday": "holidays",
    "mandates.debitrun": "a deduction day's totals",
    "channels_api.channelcredential": "a partner's key, no person",
}


@pytest.fixture
def staff(seeded):
    return User.objects.get(username=demo.STAFF_USERNAME)


@pytest.fixture
def staff_client(staff):
    return log_in_staff(Client(), staff)


@pytest.fixture
def flexible(seeded):
    return Person.objects.get(id_number=FLEXIBLE.id_number)


def only_entry(**filters):
    entries = list(AuditEntry.objects.filter(**filters))
    assert len(entries) == 1, entries
    return entries[0]


def test_a_person_list_looked_up_by_full_id_number_is_recorded_masked(staff_client, staff, flexible):
    response = staff_client.get(
        reverse("admin:payers_person_changelist"),
        {"q": flexible.id_number},
        headers={"x-forwarded-for": "203.0.113.9"},
    )

    assert response.status_code == 200
    entry = only_entry()
    assert (entry.user, entry.username, entry.action, entry.model) == (
        staff,
        staff.username,
        AuditAction.VIEW_LIST,
        "payers.person",
    )
    assert entry.object_ids == str(flexible.pk)
    assert entry.client_ip == "127.0.0.1"  # no trusted proxy: the forwarded header is the client's own
    assert mask_id_number(flexible.id_number) in entry.description  # what was searched for, masked
    assert flexible.id_number not in entry.description


def test_the_client_address_comes_through_the_trusted_proxy(settings, staff_client):
    settings.TRUSTED_PROXY_COUNT = 1

    staff_client.get(reverse("admin:payers_person_changelist"), headers={"x-forwarded-for": "203.0.113.9"})

    assert only_entry().client_ip == "203.0.113.9"


def test_viewing_a_person_is_recorded_with_the_masked_name(staff_client, flexible):
    response = staff_client.get(reverse("admin:payers_person_change", args=[flexible.pk]))

    assert response.status_code == 200
    entry = only_entry()
    assert (entry.action, entry.object_ids) == (AuditAction.VIEW, str(flexible.pk))
    assert "**活" in entry.description and flexible.name not in entry.description


def test_a_change_records_the_field_names_not_the_values(staff_client, flexible):
    url = reverse("admin:payers_person_change", args=[flexible.pk])
    data = {
        "name": flexible.name,
        "id_type": flexible.id_type,
        "id_number": flexible.id_number,
        "nationality": flexible.nationality,
        "phone": "13912345678",
    }

    response = staff_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    entry = only_entry()
    assert (entry.action, entry.object_ids, entry.changed_fields) == (
        AuditAction.CHANGE,
        str(flexible.pk),
        ["phone"],
    )
    assert "13912345678" not in str(AuditEntry.objects.values().get())


def test_adding_and_deleting_are_recorded(staff_client):
    data = {
        "name": "王小枝",
        "id_type": IdType.RESIDENT_ID,
        "id_number": "110101199003070011",
        "nationality": "中国",
        "phone": "13700001111",
    }
    assert staff_client.post(reverse("admin:payers_person_add"), data).status_code == 302
    person = Person.objects.get(id_number=data["id_number"])
    added = only_entry(action=AuditAction.ADD)
    assert added.object_ids == str(person.pk) and "**枝" in added.description
    assert set(added.changed_fields) >= {"name", "id_number", "phone"}

    staff_client.post(reverse("admin:payers_person_delete", args=[person.pk]), {"post": "yes"})

    deleted = only_entry(action=AuditAction.DELETE)
    assert deleted.object_ids == str(person.pk) and "**枝" in deleted.description


def test_the_counter_payment_is_recorded(staff_client, flexible):
    bill = Bill.objects.filter(enrolment__person=flexible, kind=BillKind.DAILY).first()
    url = f"{reverse('admin:contributions_bill_counter_payment')}?ids={bill.pk}"

    staff_client.get(url)
    staff_client.post(url, {"method": "cash"})

    shown, paid = AuditEntry.objects.order_by("pk")
    notice = set(Bill.objects.filter(notice_number=bill.notice_number).values_list("pk", flat=True))
    assert shown.action == AuditAction.VIEW and "**活" in shown.description
    assert paid.action == AuditAction.COUNTER_PAYMENT and paid.model == "contributions.bill"
    assert {int(pk) for pk in paid.object_ids.split(",")} == notice
    assert "2349.90" in paid.description and "现金" in paid.description
    assert not Bill.objects.filter(pk__in=notice, status=BillStatus.UNPAID).exists()


def test_counter_sign_up_and_revoke_of_a_mandate_are_recorded(staff_client, flexible):
    data = {
        "person": flexible.pk,
        "channel": "community_centre",
        "bank": "ICBC",
        "account_number": ICBC_ACCOUNT,
        "reserved_phone": FLEXIBLE.phone,
    }
    assert staff_client.post(reverse("admin:mandates_mandate_add"), data).status_code == 302
    mandate = Mandate.objects.get()

    staff_client.post(
        reverse("admin:mandates_mandate_changelist"),
        {"action": "revoke_at_bank_counter", "_selected_action": [mandate.pk]},
    )

    signed = only_entry(action=AuditAction.MANDATE_SIGN)
    revoked = only_entry(action=AuditAction.MANDATE_REVOKE)
    assert signed.object_ids == revoked.object_ids == str(mandate.pk)
    assert "按本人申请撤销（代理银行柜面）" in revoked.description
    for entry in (signed, revoked):
        assert ICBC_ACCOUNT not in entry.description and "6222***********7009" in entry.description


def test_the_audit_is_read_only_even_for_superusers(staff_client, staff, flexible):
    assert staff.is_superuser
    staff_client.get(reverse("admin:payers_person_changelist"))
    entry = AuditEntry.objects.get()
    count = AuditEntry.objects.count()

    assert staff_client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    change_url = reverse("admin:audit_auditentry_change", args=[entry.pk])
    assert staff_client.post(change_url, {"description": "改过"}).status_code == 403
    delete_url = reverse("admin:audit_auditentry_delete", args=[entry.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = staff_client.post(
        reverse("admin:audit_auditentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in {200, 302}
    entry.refresh_from_db()
    assert entry.description != "改过" and AuditEntry.objects.count() == count


def test_the_audit_is_filtered_by_user_action_model_and_date(staff_client, staff, flexible):
    staff_client.get(reverse("admin:payers_person_changelist"))
    staff_client.get(reverse("admin:payers_person_change", args=[flexible.pk]))
    url = reverse("admin:audit_auditentry_changelist")
    today = timezone.localdate()

    def listed(**params):
        return staff_client.get(url, params).context["cl"].result_count

    assert listed() == 2
    assert listed(action="view") == 1
    assert listed(model="payers.person", user__id__exact=staff.pk) == 2
    assert listed(model="contributions.bill") == 0
    assert listed(at__year=today.year, at__month=today.month, at__day=today.day) == 2
    assert listed(at__year=today.year - 1) == 0
    page = staff_client.get(url).content.decode()
    assert "查看列表" in page and "实名信息" in page


def test_no_full_id_phone_or_account_number_in_the_audit_after_a_walk_through_the_admin(
    staff_client, flexible
):
    """Every audited admin: its list, its list searched by each secret, its first object's pages."""
    people = list(Person.objects.all())
    secrets = {p.id_number for p in people} | {p.phone for p in people if p.phone}
    secrets |= {a.account_number for a in SandboxAccount.objects.all()}
    searches = [flexible.id_number, flexible.phone, ICBC_ACCOUNT]
    walked = 0
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, AuditedAdmin):
            continue
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        assert staff_client.get(changelist).status_code == 200, changelist
        for term in searches:
            staff_client.get(changelist, {"q": term})
        first = model._default_manager.first()
        if first is not None:
            for view in ("change", "history", "delete"):
                with contextlib.suppress(NoReverseMatch):
                    staff_client.get(reverse("admin:{}_{}_{}".format(*info, view), args=[first.pk]))
        walked += 1

    assert walked >= 15
    rows = [" ".join(str(value) for value in row.values()) for row in AuditEntry.objects.values()]
    assert len(rows) >= walked * 4
    leaks = [(secret, row) for row in rows for secret in secrets if secret in row]
    assert not leaks, leaks[:3]
    assert not [row for row in rows for p in people if p.name in row]


def test_every_admin_of_personal_data_is_audited():
    unaudited = {
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, AuditedAdmin)
    }

    assert unaudited - set(NOT_PERSONAL) == set()
    assert set(NOT_PERSONAL) - unaudited == set()  # the allow-list names only what is really left out


def test_a_list_costs_one_insert_whatever_the_number_of_rows(staff_client, django_assert_num_queries):
    url = reverse("admin:payers_person_changelist")
    staff_client.get(url)  # warm caches (content types, the session's device)
    with CaptureQueriesContext(connection) as few:
        staff_client.get(url)
    Person.objects.bulk_create(
        Person(name=f"测试{i}", id_type=IdType.RESIDENT_ID, id_number=f"3101011990010{i:05d}", phone="")
        for i in range(40)
    )

    with django_assert_num_queries(len(few)) as many:
        response = staff_client.get(url)

    assert response.context["cl"].result_count == Person.objects.count() > 40
    inserts = [
        q["sql"] for q in many.captured_queries if q["sql"].startswith('INSERT INTO "audit_auditentry"')
    ]
    assert len(inserts) == 1
    assert len(AuditEntry.objects.order_by("-pk").first().object_ids.split(",")) > 40


def test_purge_deletes_only_rows_older_than_the_retention(staff_client):
    for _ in range(3):
        staff_client.get(reverse("admin:payers_person_changelist"))
    old, edge, new = AuditEntry.objects.order_by("pk")
    now = timezone.now()
    AuditEntry.objects.filter(pk=old.pk).update(at=now - datetime.timedelta(days=3 * 365 + 1))
    AuditEntry.objects.filter(pk=edge.pk).update(at=now - datetime.timedelta(days=3 * 365 - 1))
    out = io.StringIO()

    call_command("purge_audit", stdout=out)

    assert set(AuditEntry.objects.values_list("pk", flat=True)) == {edge.pk, new.pk}
    assert "1 条" in out.getvalue()
    call_command("purge_audit", "--older-than-days", "30", stdout=io.StringIO())
    assert set(AuditEntry.objects.values_list("pk", flat=True)) == {new.pk}


def test_beat_purges_the_audit_trail_nightly(staff_client, settings):
    from audit.tasks import purge_old_audit_entries

    staff_client.get(reverse("admin:payers_person_changelist"))
    AuditEntry.objects.update(at=timezone.now() - datetime.timedelta(days=3 * 365 + 1))
    staff_client.get(reverse("admin:payers_person_changelist"))
    entry = settings.CELERY_BEAT_SCHEDULE["purge-audit"]

    assert entry["task"] == purge_old_audit_entries.name
    assert purge_old_audit_entries.apply().get() == 1
    assert AuditEntry.objects.count() == 1


def test_purge_says_its_default_retention():
    from audit.management.commands.purge_audit import Command

    assert "3 years" in Command().create_parser("manage.py", "purge_audit").format_help()


def test_citizen_pages_write_nothing(seeded):
    client = Client()
    client.force_login(User.objects.get(person__id_number=FLEXIBLE.id_number))

    client.get(reverse("home"))

    assert not AuditEntry.objects.exists()
