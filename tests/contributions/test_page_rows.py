"""
Step 3's and 缴费记录's rows are built in the views (contributions.views._bill_table, _paid_record_rows)
rather than cell by cell in the templates, for speed (issue 9): they show the same cells, and escape
what comes from the bureau's data as the templates did.
"""

import re

import pytest
from django.urls import reverse

from contributions.models import Agency, Bill, BillKind, PaidRecord
from payers.models import User

from .conftest import notification, notify, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("not_auto_debit_day")]

HOSTILE = '<script>alert("x")</script>浦东&分中心'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;浦东&amp;分中心"


def _rename(agency_id):
    # As the admin does (a save: contributions.names forgets the names it read).
    agency = Agency.objects.get(pk=agency_id)
    agency.name = HOSTILE
    agency.save()


def _step_3(client):
    client.post(reverse("contributions:pay"), {"target": "self"})
    page = client.get(reverse("contributions:pay_enrolments")).content.decode()
    client.post(reverse("contributions:pay_enrolments"), {"enrolments": re.findall(r'value="(\d+)"', page)})
    return client.get(reverse("contributions:pay_bills")).content.decode()


def test_step_3_rows_show_each_bill_and_escape_the_agency_name(flexible_client, flexible):
    bill = (
        Bill.objects.filter(enrolment__person=flexible, kind=BillKind.DAILY)
        .select_related("enrolment")
        .first()
    )
    Agency.objects.filter(pk=bill.enrolment.agency_id).update(name=HOSTILE)

    page = _step_3(flexible_client)

    assert ESCAPED in page and "<script>alert" not in page
    rows = re.findall(rf"<tr>(?:(?!</tr>).)*{bill.notice_number}(?:(?!</tr>).)*</tr>", page, re.S)
    assert len(rows) == 2  # the notice's two bills
    row = next(row for row in rows if f'<td class="text-end">{bill.amount}</td>' in row)
    assert f"{bill.period_start:%Y-%m}至{bill.period_end:%Y-%m}" in row and "正常应缴" in row
    # The notice's checkbox: on its first row, spanning both, ticked by default, labelled with the total.
    assert 'rowspan="2"' in rows[0] and f'value="{bill.notice_number}"' in rows[0] and " checked" in rows[0]
    assert f"选择征集通知单号 {bill.notice_number}，合计 2349.90 元" in rows[0]
    assert "checkbox" not in rows[1]


def test_records_rows_show_each_paid_record_and_escape_the_agency_name(flexible_client, flexible):
    payment = start(flexible, paid_by=User.objects.get(person=flexible))
    notify(flexible_client, notification(payment))
    record = PaidRecord.objects.filter(payment=payment).select_related("enrolment").first()
    _rename(record.enrolment.agency_id)

    page = flexible_client.get(reverse("contributions:records")).content.decode()

    assert ESCAPED in page and "<script>alert" not in page
    row = re.search(rf"<tr><td>{record.voucher_number}</td>.*?</tr>", page).group(0)
    assert record.enrolment.personnel_number in row and "待入库" in row and str(record.amount) in row
    assert f"{record.period_start:%Y-%m}至{record.period_end:%Y-%m}" in row


def test_an_agency_renamed_in_the_admin_shows_at_once_though_names_are_cached(flexible_client, flexible):
    bill = (
        Bill.objects.filter(enrolment__person=flexible, kind=BillKind.DAILY)
        .select_related("enrolment")
        .first()
    )
    before = _step_3(flexible_client)  # reads the names into contributions.names
    agency = Agency.objects.get(pk=bill.enrolment.agency_id)
    assert agency.name in before

    agency.name = "上海市社会保险事业管理中心新区分中心"
    agency.save()
    after = flexible_client.get(reverse("contributions:pay_bills")).content.decode()

    assert "上海市社会保险事业管理中心新区分中心" in after


def test_records_count_payments_and_paid_records_in_their_page_queries(
    flexible_client, flexible, django_assert_max_num_queries
):
    payment = start(flexible, paid_by=User.objects.get(person=flexible))
    notify(flexible_client, notification(payment))

    with django_assert_max_num_queries(10) as queries:
        page = flexible_client.get(reverse("contributions:records")).content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"] and "OVER" not in q["sql"]]

    paid = PaidRecord.objects.filter(enrolment__person=flexible).count()
    assert re.findall(r"共 (\d+) 条", page) == ["1", str(paid)] and paid > 0
    assert counts == []  # the totals come with the rows
