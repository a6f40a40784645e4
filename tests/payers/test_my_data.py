"""下载我的数据: the citizen's own records as JSON, nobody else's, in a constant number of queries."""

import json
import secrets
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates.models import Certificate
from contributions import services as payments
from contributions.models import Bill, BillKind, PaymentChannel, TaxAuthority
from mandates import services as mandates
from mandates.models import MandateChannel
from payers import verification
from payers.adapters.sms import send_sms
from payers.models import CodePurpose, Person, User
from portal import demo

pytestmark = pytest.mark.django_db
URL = reverse("payers:my_data")
FLEXIBLE = next(p for p in demo.PEOPLE if p.key == "flexible")
RESIDENT = next(p for p in demo.PEOPLE if p.key == "resident")
ICBC_ACCOUNT = "6222021001150017009"


@pytest.fixture
def seeded():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def person_of(spec):
    return Person.objects.get(id_number=spec.id_number)


def pay_all(person):
    notices = sorted(
        set(
            Bill.objects.filter(enrolment__person=person, status="unpaid", kind=BillKind.DAILY).values_list(
                "notice_number", flat=True
            )
        )
    )
    payment = payments.start_payment(
        person=person, notice_numbers=notices, method="card", channel=PaymentChannel.PORTAL
    )
    payments.settle_payment(order_number=payment.order_number, amount=payment.amount, reference="T")
    return payment


def certificate(person):
    return Certificate.objects.create(
        applicant=User.objects.get(person=person),
        person=person,
        period_start="2025-01-01",
        period_end="2025-12-31",
        tax_authority=TaxAuthority.objects.first(),
        total=Decimal("100.00"),
        verification_code=secrets.token_hex(8),
    )


def sign(person, spec):
    return mandates.sign_mandate(
        person=person,
        bank="ICBC",
        account_number=ICBC_ACCOUNT,
        reserved_phone=spec.phone,
        channel=MandateChannel.ONLINE,
    )


def download(client):
    response = client.post(URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    return response, json.loads(response.content)


@pytest.fixture
def flexible(seeded):
    person = person_of(FLEXIBLE)
    payment = pay_all(person)
    first = sign(person, FLEXIBLE)
    mandates.revoke_mandate(mandate=first, channel=MandateChannel.ONLINE)
    certificate(person)
    verification.send_code(phone=FLEXIBLE.phone, purpose=CodePurpose.MANDATE_SIGN)
    return person, payment


@pytest.fixture
def resident(seeded):
    person = person_of(RESIDENT)
    payment = pay_all(person)
    certificate(person)
    send_sms(phone=RESIDENT.phone, body="【上海市电子税务局】给李居民的短信", purpose="test")
    return person, payment


def test_the_export_has_the_citizens_own_rows_and_none_of_another_persons(client, flexible, resident):
    person, payment = flexible
    client.force_login(User.objects.get(person=person))

    response, data = download(client)
    text = response.content.decode()

    assert data["实名信息"]["姓名"] == FLEXIBLE.name and data["实名信息"]["证件号码"] == FLEXIBLE.id_number
    assert data["账户"]["手机号码"] == FLEXIBLE.phone
    assert len(data["参保登记"]) == 2
    assert {bill["征集通知单号"] for bill in data["应缴信息"]} == set(
        Bill.objects.filter(enrolment__person=person).values_list("notice_number", flat=True)
    )
    [order] = data["缴费订单"]
    assert order["订单号"] == payment.order_number and order["状态"] == "支付成功"
    assert sum(Decimal(line["金额"]) for line in order["明细"]) == payment.amount
    assert len(data["缴费记录"]) == payment.lines.count()
    [mandate] = data["委托扣款协议"]
    assert mandate["状态"] == "已撤销" and mandate["银行账号"] == ICBC_ACCOUNT
    assert len(data["缴费证明"]) == 1
    assert any("签订扣款协议" in sms["短信内容"] for sms in data["短信"])
    # The other person's rows are nowhere in the file.
    other, other_payment = resident
    for leak in (RESIDENT.name, RESIDENT.id_number, RESIDENT.phone, other_payment.order_number):
        assert leak not in text


def test_verification_codes_are_hidden_in_the_exported_sms(client, flexible):
    person, _ = flexible
    client.force_login(User.objects.get(person=person))

    _, data = download(client)

    [code_sms] = [sms for sms in data["短信"] if "验证码" in sms["短信内容"]]
    assert "验证码：******" in code_sms["短信内容"]


def test_anonymous_is_sent_to_login(client):
    for response in (client.get(URL), client.post(URL)):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("payers:login"))


def test_the_page_explains_the_file_and_is_linked_from_the_account_page(client, flexible):
    person, _ = flexible
    client.force_login(User.objects.get(person=person))

    page = client.get(URL).content.decode()

    assert "下载我的数据" in page and "JSON" in page and "请妥善保管" in page
    assert URL in client.get(reverse("payers:account")).content.decode()


def count_queries(client):
    with CaptureQueriesContext(connection) as queries:
        download(client)
    return len(queries)


def test_the_export_takes_a_constant_number_of_queries(client, flexible, django_assert_max_num_queries):
    person, _ = flexible
    client.force_login(User.objects.get(person=person))
    # 5 are the session's (the session, the user with its person, the idle-timeout stamp saved in a
    # savepoint), 8 the export's: one per kind of record (payments and their lines are two).
    with django_assert_max_num_queries(13):
        download(client)
    few = count_queries(client)

    # Many more rows of every kind: the number of queries does not move.
    for _ in range(3):
        mandates.revoke_mandate(mandate=sign(person, FLEXIBLE), channel=MandateChannel.ONLINE)
        certificate(person)
        send_sms(phone=FLEXIBLE.phone, body="【上海市电子税务局】提醒", purpose="test")
    for bill in Bill.objects.filter(enrolment__person=person, kind=BillKind.SPECIAL):
        bill.pk, bill.notice_number = None, bill.notice_number + "9"
        bill.save()
    Bill.objects.filter(enrolment__person=person, kind=BillKind.SPECIAL).update(kind=BillKind.DAILY)
    pay_all(person)

    assert count_queries(client) == few <= 13
