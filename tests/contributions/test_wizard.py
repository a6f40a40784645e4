"""The payment wizard through its pages: SPEC rules 1, 2, 3, 5, 6 and 14."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from contributions.models import Bill, BillKind, BillStatus, Payment, PaymentStatus
from payers.models import User

from .conftest import demo_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("not_auto_debit_day")]


def through_step_2(client, **identity):
    data = {"target": "self"} if not identity else {"target": "other", "nationality": "中国", **identity}
    response = client.post(reverse("contributions:pay"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return client.post(reverse("contributions:pay_enrolments"), {"enrolments": _enrolment_ids(client)})


def _enrolment_ids(client):
    page = client.get(reverse("contributions:pay_enrolments")).content.decode()
    return re.findall(r'name="enrolments" value="(\d+)"', page)


def test_rule_14_the_wizard_opens_with_its_notice_and_scope_reminder(flexible_client):
    page = flexible_client.get(reverse("contributions:pay")).content.decode()

    assert "办理须知" in page and "继续办理" in page
    assert "不包含企事业单位在职职工人员" in page


def test_step_1_shows_the_own_identity_masked(flexible_client, flexible):
    page = flexible_client.get(reverse("contributions:pay")).content.decode()

    assert "**活" in page
    assert flexible.id_number not in page


def test_rule_1_a_person_not_enrolled_is_told_so(client, seeded):
    client.force_login(User.objects.get(person=demo_person("unenrolled")))

    response = client.post(reverse("contributions:pay"), {"target": "self"})

    assert (
        "缴费人不属于灵活就业或城乡居民身份的参保人员，请确认参保身份再行办理。" in response.content.decode()
    )


def test_rule_1_an_account_without_identity_is_told_so(client, admin_user, seeded):
    client.force_login(admin_user)

    response = client.post(reverse("contributions:pay"), {"target": "self"})

    assert "缴费人不属于灵活就业或城乡居民身份的参保人员" in response.content.decode()


def test_step_2_lists_the_enrolments_as_in_the_guide(flexible_client):
    through_step_2(flexible_client)
    page = flexible_client.get(reverse("contributions:pay_enrolments")).content.decode()

    for text in ("灵活就业", "上海市社会保险事业管理中心浦东分中心", "灵活就业人员基本养老保险", "7460.00"):
        assert text in page


def test_step_3_groups_bills_by_notice_with_daily_and_special_tabs(flexible_client, flexible):
    through_step_2(flexible_client)

    daily = flexible_client.get(reverse("contributions:pay_bills")).content.decode()
    special = flexible_client.get(reverse("contributions:pay_bills"), {"kind": "special"}).content.decode()

    daily_notice = Bill.objects.filter(enrolment__person=flexible, kind=BillKind.DAILY).first().notice_number
    special_notice = (
        Bill.objects.filter(enrolment__person=flexible, kind=BillKind.SPECIAL).first().notice_number
    )
    assert daily.count('name="notices"') == 1 and daily_notice in daily and special_notice not in daily
    assert special_notice in special
    assert "2349.90" in daily  # 合计 of 1492.00 + 857.90
    assert "同一征集通知单号的可缴信息必须一起缴费" in daily


def test_rule_3_paying_a_notice_takes_all_its_bills_even_from_an_unticked_enrolment(
    flexible_client, flexible
):
    flexible_client.post(reverse("contributions:pay"), {"target": "self"})
    pension_only = _enrolment_ids(flexible_client)[:1]
    flexible_client.post(reverse("contributions:pay_enrolments"), {"enrolments": pension_only})

    page = flexible_client.get(reverse("contributions:pay_bills")).content.decode()

    assert "灵活就业人员基本医疗保险" in page and "857.90" in page


def test_step_3_refuses_a_notice_that_is_not_offered(flexible_client):
    through_step_2(flexible_client)

    response = flexible_client.post(reverse("contributions:pay_bills"), {"notices": ["999999"]})

    assert response.status_code == 200
    assert not flexible_client.session["pay_wizard"].get("notices")


def test_rule_2_nothing_payable_shows_the_reasons(flexible_client, flexible):
    Bill.objects.filter(enrolment__person=flexible).update(status=BillStatus.PAID)
    through_step_2(flexible_client)

    page = flexible_client.get(reverse("contributions:pay_bills")).content.decode()

    assert "未查询到有效信息" in page
    assert "已过当月缴费期限（一般为每月24日）" in page


def test_rule_4_bills_past_their_deadline_are_not_offered(flexible_client, flexible):
    import datetime

    Bill.objects.filter(enrolment__person=flexible, kind=BillKind.DAILY).update(
        payable_until=datetime.date(2020, 1, 24)
    )
    through_step_2(flexible_client)

    page = flexible_client.get(reverse("contributions:pay_bills")).content.decode()

    assert 'name="notices"' not in page


def test_rule_6_pay_for_another_person_whose_identity_matches(flexible_client, resident):
    through_step_2(flexible_client, name=resident.name, id_type="201", id_number=resident.id_number)

    page = flexible_client.get(reverse("contributions:pay_bills")).content.decode()

    assert "城乡居民基本养老保险费" in page and "1100.00" in page


def test_rule_6_another_person_must_match_exactly(flexible_client, resident):
    data = {
        "target": "other",
        "name": "李居",
        "id_type": "201",
        "id_number": resident.id_number,
        "nationality": "中国",
    }

    response = flexible_client.post(reverse("contributions:pay"), data)

    assert "缴费人不属于灵活就业或城乡居民身份的参保人员" in response.content.decode()


def test_rule_5_self_service_is_closed_on_auto_debit_days(flexible_client, monkeypatch):
    monkeypatch.setattr("contributions.calendar.is_auto_debit_day", lambda day: True)

    page = flexible_client.get(reverse("contributions:pay")).content.decode()
    response = flexible_client.post(reverse("contributions:pay"), {"target": "self"})

    assert "批量扣款日，暂停网上自助缴费" in page
    assert response.status_code == 200 and "pay_wizard" not in flexible_client.session


def test_method_page_offers_the_card_and_says_mandates_are_not_available_yet(flexible_client):
    through_step_2(flexible_client)
    flexible_client.post(reverse("contributions:pay_bills"), {"notices": _daily_notices(flexible_client)})

    page = flexible_client.get(reverse("contributions:pay_method")).content.decode()

    assert "银联支付" in page and "支付后不支持撤销" in page
    assert "费款合计" in page and "2349.90" in page


def _daily_notices(client):
    page = client.get(reverse("contributions:pay_bills")).content.decode()
    return re.findall(r'name="notices" value="(\w+)"', page)


def test_double_submit_of_the_method_page_creates_one_payment(flexible_client):
    through_step_2(flexible_client)
    flexible_client.post(reverse("contributions:pay_bills"), {"notices": _daily_notices(flexible_client)})
    key = flexible_client.session["pay_wizard"]["idempotency_key"]

    first = flexible_client.post(
        reverse("contributions:pay_method"), {"method": "card", "idempotency_key": key}
    )
    second = flexible_client.post(
        reverse("contributions:pay_method"), {"method": "card", "idempotency_key": key}
    )

    assert first["Location"] == second["Location"]
    assert Payment.objects.count() == 1
    payment = Payment.objects.get()
    assert payment.amount == Decimal("2349.90") and payment.status == PaymentStatus.PENDING


@pytest.mark.parametrize("bills", [2, 200])
def test_the_wizard_query_count_does_not_grow_with_the_bills(
    flexible_client, flexible, bills, django_assert_max_num_queries
):
    template = Bill.objects.filter(enrolment__person=flexible).first()
    Bill.objects.bulk_create(
        Bill(
            notice_number=f"X{n:05d}",
            enrolment=template.enrolment,
            period_start=template.period_start.replace(year=2000 + n % 20, month=n % 12 + 1),
            period_end=template.period_end.replace(year=2000 + n % 20, month=n % 12 + 1, day=28),
            amount=Decimal("10.00"),
            tax_office=template.tax_office,
        )
        for n in range(bills)
    )
    through_step_2(flexible_client)

    for url in ("contributions:pay", "contributions:pay_enrolments", "contributions:pay_bills"):
        with django_assert_max_num_queries(10):
            assert flexible_client.get(reverse(url)).status_code == 200
