"""Guide chapter 2 through the channel API: enrolments, bills, payment orders, payment results."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from contributions import services as contribution_services
from contributions.models import (
    Bill,
    BillKind,
    BillStatus,
    ContributionType,
    Enrolment,
    PaidRecord,
    Payment,
    PaymentChannel,
    PaymentMethod,
    PaymentStatus,
)
from tests.channels_api.conftest import demo_person, identity

pytestmark = pytest.mark.django_db


def month(day, offset=0):
    index = day.year * 12 + day.month - 1 + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def flexible_query(special=False, **overrides):
    today = timezone.localdate()
    period = month(today, 0 if special else -1)
    return {
        **identity("flexible"),
        "payer_type": "flexible",
        "period_from": period,
        "period_to": period,
        "special": special,
        **overrides,
    }


def daily_notice():
    last_month = month(timezone.localdate(), -1).replace("-", "")
    return f"3101{last_month}000001"


def create_order(api, key="order-1", **overrides):
    body = {**identity("flexible"), "notice_numbers": [daily_notice()], **overrides}
    return api.post("orders", body, idempotency_key=key)


# 查询参保信息 ------------------------------------------------------------------------------------------


def test_enrolments_of_a_flexible_worker_masked(api):
    response = api.post("enrolments/query", identity("flexible"))

    assert response.status == 200
    body = response.json()
    assert body["person"] == {"name": "**活", "id_type": "201", "id_number": "3****************7"}
    assert {e["category"] for e in body["enrolments"]} == {
        "灵活就业人员基本养老保险",
        "灵活就业人员基本医疗保险",
    }
    assert {e["payer_type_name"] for e in body["enrolments"]} == {"灵活就业"}
    assert identity("flexible")["id_number"] not in response.body.decode()


def test_enrolments_unknown_identity_is_no_enrolment(api):
    response = api.post("enrolments/query", {**identity("flexible"), "name": "张某某"})

    assert response.status == 422
    assert response.json() == {"code": "no_enrolment", "message": "无有效的参保登记信息"}


def test_rule_1_person_not_enrolled_as_flexible_or_resident(api):
    response = api.post("enrolments/query", identity("unenrolled"))

    assert response.status == 422
    assert response.json() == {
        "code": "not_flexible_or_resident",
        "message": "缴费人不属于灵活就业或城乡居民身份的参保人员，请确认参保身份再行办理。",
    }


def test_expired_enrolment_is_no_valid_enrolment(api):
    Enrolment.objects.filter(person=demo_person("resident")).update(valid_to=datetime.date(2020, 12, 31))

    response = api.post("enrolments/query", identity("resident"))

    assert response.status == 422
    assert response.json()["code"] == "no_enrolment"


def test_validation_errors_are_field_messages_in_chinese(api):
    response = api.post("enrolments/query", {"name": "", "id_type": "999", "id_number": "310115199003150018"})

    assert response.status == 400
    body = response.json()
    assert body["code"] == "invalid_request"
    assert set(body["fields"]) == {"name", "id_type"}
    assert "不是合法选项" in body["fields"]["id_type"][0]


def test_wrong_check_digit_is_a_field_error(api):
    response = api.post("enrolments/query", {**identity("flexible"), "id_number": "310115199003150018"})

    assert response.status == 400
    assert response.json()["fields"]["id_number"] == ["居民身份证号码校验位不正确，请核对"]


def test_body_that_is_not_json_is_400(api):
    response = api.request(
        "POST", "enrolments/query", json_body=None, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400

    response = api.transport(
        "POST",
        api.url("enrolments/query"),
        {"Content-Type": "application/json", **_signed(api, "POST", "enrolments/query", b"{not json")},
        b"{not json",
    )
    assert response.status == 400
    assert response.json()["code"] == "invalid_json"


def _signed(api, method, path, body):
    from channel_client import sign_request

    return sign_request(api.secret, api.key_id, method, api.url(path), body)


# 查询应缴信息 ------------------------------------------------------------------------------------------


def test_flexible_daily_bills_of_last_month(api):
    response = api.post("bills/query", flexible_query())

    assert response.status == 200
    body = response.json()
    [notice] = body["notices"]
    assert notice["notice_number"] == daily_notice()
    assert notice["total"] == "2349.90"
    assert {bill["kind"] for bill in notice["bills"]} == {"daily"}
    assert body["total"] == "2349.90"
    assert "同一征集通知单号" in body["notice"]


def test_flexible_special_bills_of_this_month(api):
    response = api.post("bills/query", flexible_query(special=True))

    assert response.status == 200
    [notice] = response.json()["notices"]
    assert {bill["kind"] for bill in notice["bills"]} == {"special"}
    assert notice["bills"][0]["period_from"] == month(timezone.localdate())


def test_rule_3_a_notice_comes_whole_whatever_the_insurance_filter(api):
    response = api.post("bills/query", flexible_query(insurance="pension"))

    [notice] = response.json()["notices"]
    assert {bill["category"] for bill in notice["bills"]} == {
        "灵活就业人员基本养老保险",
        "灵活就业人员基本医疗保险",
    }


def test_resident_by_insurance_and_year(api):
    year = timezone.localdate().year
    pension = api.post("bills/query", {**identity("resident"), "payer_type": "resident", "year": year})
    medical = api.post(
        "bills/query",
        {**identity("resident"), "payer_type": "resident", "insurance": "medical", "year": year + 1},
    )

    assert pension.status == 200
    assert [n["notice_number"] for n in pension.json()["notices"]] == [f"3101{year}000002"]
    assert [n["notice_number"] for n in medical.json()["notices"]] == [f"3101{year + 1}000003"]
    assert medical.json()["notices"][0]["bills"][0]["amount"] == "720.00"


def test_resident_arrears_of_past_years(api):
    person = demo_person("resident")
    enrolment = person.enrolments.get(category__name="城乡居民基本养老保险费")
    past = timezone.localdate().year - 2
    Bill.objects.create(
        notice_number=f"3101{past}900002",
        enrolment=enrolment,
        period_start=datetime.date(past, 1, 1),
        period_end=datetime.date(past, 12, 31),
        amount=Decimal("1000.00"),
        contribution_type=ContributionType.ARREARS,
        tax_office=enrolment.tax_office,
    )

    response = api.post("bills/query", {**identity("resident"), "payer_type": "resident", "arrears": True})

    assert response.status == 200
    [notice] = response.json()["notices"]
    assert notice["notice_number"] == f"3101{past}900002"
    assert notice["bills"][0]["contribution_type"] == "arrears"


def test_resident_must_choose_year_or_arrears(api):
    response = api.post("bills/query", {**identity("resident"), "payer_type": "resident"})

    assert response.status == 400
    assert response.json()["fields"]["year"] == ["城乡居民请选择缴费年度，或选择补缴（二选一）"]


def test_flexible_period_must_be_ordered(api):
    response = api.post("bills/query", flexible_query(period_from="2024-05", period_to="2024-04"))

    assert response.status == 400
    assert response.json()["fields"]["period_to"] == ["缴费期间止不能早于缴费期间起"]


def test_rule_2_no_payable_bills(api):
    response = api.post("bills/query", flexible_query(period_from="2020-01", period_to="2020-12"))

    assert response.status == 422
    body = response.json()
    assert body["code"] == "no_payable_bills"
    assert body["message"] == "不存在未申报的待缴费信息"
    assert any("24日" in reason for reason in body["reasons"])


def test_paid_bills_are_not_payable_again(api):
    Bill.objects.filter(notice_number=daily_notice()).update(status=BillStatus.PAID)

    response = api.post("bills/query", flexible_query())

    assert response.json()["code"] == "no_payable_bills"


# 创建缴费订单 ------------------------------------------------------------------------------------------


def test_create_order_for_whole_notice(api):
    response = create_order(api, pay_method="alipay")

    assert response.status == 201
    body = response.json()
    assert body["status"] == "pending" and body["amount"] == "2349.90"
    assert body["channel"] == "suishenban" and body["pay_method"] == "alipay"
    payment = Payment.objects.get(order_number=body["order_number"])
    assert payment.channel == PaymentChannel.SUISHENBAN
    assert payment.method == PaymentMethod.ALIPAY
    assert payment.lines.count() == 2


def test_same_key_same_body_returns_the_same_order(api):
    first = create_order(api, pay_method="wechat")
    again = create_order(api, pay_method="wechat")

    assert (first.status, again.status) == (201, 200)
    assert again.json()["order_number"] == first.json()["order_number"]
    assert Payment.objects.count() == 1


def test_same_key_different_body_is_refused(api):
    create_order(api, pay_method="wechat")
    other = create_order(api, pay_method="alipay")

    assert other.status == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == 1


def test_key_is_per_channel(api, make_api):
    alipay = make_api(PaymentChannel.ALIPAY)
    first = create_order(api, key="shared-key", pay_method="alipay")
    second = create_order(alipay, key="shared-key")

    assert (first.status, second.status) == (201, 201)
    assert second.json()["pay_method"] == "alipay" and second.json()["channel"] == "alipay"
    # The newer order supersedes the older one for the same bills.
    assert Payment.objects.get(order_number=first.json()["order_number"]).status == PaymentStatus.CLOSED


def test_idempotency_key_header_is_required(api):
    response = api.post(
        "orders", {**identity("flexible"), "notice_numbers": [daily_notice()], "pay_method": "alipay"}
    )

    assert response.status == 400
    assert "Idempotency-Key" in response.json()["fields"]


def test_suishenban_must_say_how_the_person_pays(api):
    response = create_order(api)

    assert response.status == 400
    assert response.json()["fields"] == {"pay_method": ["请选择支付方式"]}


def test_rule_5_no_self_service_payment_on_auto_debit_days(api, monkeypatch):
    monkeypatch.setattr("contributions.calendar.is_auto_debit_day", lambda day: True)

    response = create_order(api, pay_method="alipay")

    assert response.status == 422
    assert response.json()["code"] == "auto_debit_day"


def test_unknown_notice_is_refused(api):
    response = create_order(api, pay_method="alipay", notice_numbers=["310100000000000"])

    assert response.status == 422
    assert response.json() == {"code": "payment_refused", "message": "所选应缴信息不存在或不属于该缴费人。"}


def test_order_for_someone_not_enrolled_is_refused(api):
    response = create_order(api, pay_method="alipay", **identity("unenrolled"))

    assert response.status == 422
    assert response.json()["code"] == "not_flexible_or_resident"


def test_already_paid_notice_is_a_conflict(api):
    Bill.objects.filter(notice_number=daily_notice()).update(status=BillStatus.PAID)

    response = create_order(api, pay_method="alipay")

    assert response.status == 409
    assert response.json()["code"] == "already_paid"


# 查询订单 ----------------------------------------------------------------------------------------------


def test_query_order(api):
    order_number = create_order(api, pay_method="alipay").json()["order_number"]

    response = api.get(f"orders/{order_number}")

    assert response.status == 200
    assert response.json()["order_number"] == order_number
    assert [n["notice_number"] for n in response.json()["notices"]] == [daily_notice()]


def test_unknown_order_and_another_channels_order_are_404(api, make_api):
    order_number = create_order(api, pay_method="alipay").json()["order_number"]
    alipay = make_api(PaymentChannel.ALIPAY)

    assert api.get("orders/SB0000").json() == {"code": "order_not_found", "message": "订单不存在"}
    assert api.get("orders/SB0000").status == 404
    assert alipay.get(f"orders/{order_number}").status == 404


# 通知支付结果 ------------------------------------------------------------------------------------------


def paid(api, order_number, amount="2349.90", trade_no="ALI2024000001"):
    return api.post(
        f"orders/{order_number}/payment-result", {"status": "paid", "amount": amount, "trade_no": trade_no}
    )


def test_payment_result_settles_through_the_contributions_service(api):
    order_number = create_order(api, pay_method="alipay").json()["order_number"]

    response = paid(api, order_number)

    assert response.status == 200
    body = response.json()
    assert body["status"] == "succeeded" and body["trade_no"] == "ALI2024000001" and body["paid_at"]
    assert set(Bill.objects.filter(notice_number=daily_notice()).values_list("status", flat=True)) == {"paid"}
    assert PaidRecord.objects.filter(payment__order_number=order_number).count() == 2


def test_payment_result_replay_changes_nothing(api):
    order_number = create_order(api, pay_method="alipay").json()["order_number"]
    first = paid(api, order_number)

    again = paid(api, order_number)

    assert again.status == 200
    assert again.json() == first.json()
    assert PaidRecord.objects.filter(payment__order_number=order_number).count() == 2


def test_payment_result_with_the_wrong_amount_is_refused(api):
    order_number = create_order(api, pay_method="alipay").json()["order_number"]

    response = paid(api, order_number, amount="2349.00")

    assert response.status == 409
    assert response.json()["code"] == "amount_mismatch"
    assert Payment.objects.get(order_number=order_number).status == PaymentStatus.PENDING
    assert not PaidRecord.objects.filter(payment__order_number=order_number).exists()


def test_a_second_trade_for_a_paid_order_is_a_conflict(api):
    order_number = create_order(api, pay_method="alipay").json()["order_number"]
    paid(api, order_number)

    response = paid(api, order_number, trade_no="ALI2024000002")

    assert response.status == 409
    assert response.json()["code"] == "trade_no_conflict"


def test_payment_failed_leaves_the_bills_payable(api):
    order_number = create_order(api, pay_method="alipay").json()["order_number"]

    response = api.post(f"orders/{order_number}/payment-result", {"status": "failed", "reason": "用户取消"})

    assert response.status == 200
    assert response.json()["status"] == "failed"
    assert api.post("bills/query", flexible_query()).status == 200


def test_money_for_bills_paid_meanwhile_is_refund_due(api):
    order_number = create_order(api, pay_method="alipay").json()["order_number"]
    person = demo_person("flexible")
    counter = contribution_services.start_payment(
        person=person, notice_numbers=[daily_notice()], method="cash", channel=PaymentChannel.TAX_HALL
    )
    contribution_services.settle_payment(order_number=counter.order_number, amount=counter.amount)

    response = paid(api, order_number)

    assert response.status == 200
    assert response.json()["status"] == "refund_due"


def test_payment_result_for_an_unknown_order_is_404(api):
    response = paid(api, "SB0000")

    assert response.status == 404
    assert response.json()["code"] == "order_not_found"


def test_payment_result_needs_amount_and_trade_no(api):
    order_number = create_order(api, pay_method="alipay").json()["order_number"]

    response = api.post(f"orders/{order_number}/payment-result", {"status": "paid"})

    assert response.status == 400
    assert set(response.json()["fields"]) == {"amount", "trade_no"}


def test_alipay_channel_pays_with_alipay_by_default(make_api, seeded, not_auto_debit_day):
    alipay = make_api(PaymentChannel.ALIPAY)

    response = create_order(alipay)

    assert response.status == 201
    assert Payment.objects.get(order_number=response.json()["order_number"]).method == PaymentMethod.ALIPAY


def test_bills_special_tab_is_separate_from_daily(api):
    special = api.post("bills/query", flexible_query(special=True)).json()["notices"][0]["notice_number"]
    daily = api.post("bills/query", flexible_query()).json()["notices"][0]["notice_number"]

    assert special != daily
    assert Bill.objects.filter(notice_number=special, kind=BillKind.SPECIAL).exists()
