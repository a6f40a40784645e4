"""Staff take an offline payment at the tax hall in admin, with the portal's rules."""

from decimal import Decimal

import pytest
from django.urls import reverse

from contributions.models import (
    Bill,
    BillKind,
    BillStatus,
    PaidRecord,
    Payment,
    PaymentChannel,
    PaymentStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_client, seeded):
    return admin_client


def counter_url(bills):
    return f"{reverse('admin:contributions_bill_counter_payment')}?ids={','.join(str(b.pk) for b in bills)}"


def test_staff_take_cash_for_the_whole_notice_of_a_selected_bill(staff, flexible, admin_user):
    one_bill = Bill.objects.filter(enrolment__person=flexible, kind=BillKind.DAILY)[:1]

    page = staff.get(counter_url(one_bill)).content.decode()
    assert "2349.90" in page and "**活" in page and flexible.name not in page  # both bills of the notice
    response = staff.post(counter_url(one_bill), {"method": "cash"})

    payment = Payment.objects.get()
    assert response["Location"] == reverse("admin:contributions_payment_receipt", args=[payment.pk])
    assert (payment.channel, payment.method, payment.status) == (
        PaymentChannel.TAX_HALL,
        "cash",
        PaymentStatus.SUCCEEDED,
    )
    assert payment.operator == admin_user and payment.amount == Decimal("2349.90")
    assert PaidRecord.objects.filter(payment=payment).count() == 2
    receipt = staff.get(response["Location"]).content.decode()
    assert "社会保险费收款凭证" in receipt and "现金" in receipt and "2349.90" in receipt


def test_the_admin_action_leads_to_the_counter_page(staff, flexible):
    bills = Bill.objects.filter(enrolment__person=flexible, kind=BillKind.DAILY)
    response = staff.post(
        reverse("admin:contributions_bill_changelist"),
        {"action": "take_counter_payment", "_selected_action": [b.pk for b in bills]},
    )

    assert response["Location"].startswith(reverse("admin:contributions_bill_counter_payment"))


def test_bills_of_two_payers_are_refused(staff, flexible, resident):
    bills = [Bill.objects.filter(enrolment__person=person).first() for person in (flexible, resident)]

    response = staff.get(counter_url(bills), follow=True)

    assert "请选择同一缴费人的应缴信息" in response.content.decode()


def test_paid_bills_cannot_be_taken_again_at_the_counter(staff, flexible):
    bills = Bill.objects.filter(enrolment__person=flexible, kind=BillKind.DAILY)
    staff.post(counter_url(bills), {"method": "wechat"})

    response = staff.post(counter_url(bills), {"method": "cash"}, follow=True)

    assert Payment.objects.count() == 1
    assert "已缴费" in response.content.decode() or "已缴费或已作废" in response.content.decode()
    assert set(bills.values_list("status", flat=True)) == {BillStatus.PAID}


def test_citizens_cannot_use_the_counter(client, seeded, flexible):
    from payers.models import User

    client.force_login(User.objects.get(person=flexible))

    response = client.get(counter_url(Bill.objects.filter(enrolment__person=flexible)))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_payments_cannot_be_edited_or_deleted_in_admin(staff, flexible):
    bills = Bill.objects.filter(enrolment__person=flexible, kind=BillKind.DAILY)
    staff.post(counter_url(bills), {"method": "alipay"})
    payment = Payment.objects.get()

    listing = staff.get(reverse("admin:contributions_payment_changelist")).content.decode()
    assert payment.order_number in listing and flexible.name not in listing
    delete = staff.post(reverse("admin:contributions_payment_delete", args=[payment.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert Payment.objects.filter(pk=payment.pk).exists()


def test_staff_filter_bills_by_status_agency_and_tax_office(staff, flexible):
    bill = Bill.objects.filter(enrolment__person=flexible).first()
    url = reverse("admin:contributions_bill_changelist")

    response = staff.get(
        url,
        {
            "status": "unpaid",
            "enrolment__agency__id__exact": bill.enrolment.agency_id,
            "tax_office__id__exact": bill.tax_office_id,
        },
    )

    assert response.status_code == 200
    assert (
        response.context["cl"].result_count
        == Bill.objects.filter(
            status="unpaid", enrolment__agency=bill.enrolment.agency, tax_office=bill.tax_office
        ).count()
    )


def test_staff_find_bills_by_notice_number_or_the_payers_id_number(staff, flexible, resident):
    bill = Bill.objects.filter(enrolment__person=flexible).first()
    url = reverse("admin:contributions_bill_changelist")

    by_notice = staff.get(url, {"q": bill.notice_number})
    by_id_number = staff.get(url, {"q": flexible.id_number.lower()})
    part_of_a_notice = staff.get(url, {"q": bill.notice_number[:-1]})

    assert set(by_notice.context["cl"].result_list) == set(
        Bill.objects.filter(notice_number=bill.notice_number)
    )
    assert set(by_id_number.context["cl"].result_list) == set(Bill.objects.filter(enrolment__person=flexible))
    assert part_of_a_notice.context["cl"].result_count == 0  # the whole number, as printed on the notice
