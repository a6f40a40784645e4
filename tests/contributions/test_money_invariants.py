"""
Money under concurrency (PostgreSQL, threads): hypothesis draws a few payers with their bills, some with a
mandate and a bank balance (enough or not), and the ways they pay, all at the same instant: card payments
settled by the gateway's notifications (repeated), 授权书支付, a staff counter payment, a channel's payment,
and the day's batch auto-debit. Whatever the interleaving, no money is lost or counted twice:

- a bill has at most one positive paid record, and is paid exactly when it has one;
- the paid records of a bill, and of all bills, add up to what succeeded payments took for them;
- every yuan taken (card orders paid, bank debits, counter and channel settlements) is either a paid
  record or a payment 重复支付待退款 — and after staff refund those (twice each, at the same time),
  money taken − money refunded = the paid records;
- every successful bank debit has exactly one payment; balances + debits − refunds = starting balances.
"""

import datetime
import itertools
import os
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from bank_sandbox.models import SandboxAccount, SandboxDebit
from bank_sandbox.models import SandboxRefund as BankRefund
from channels_api import services as channel_services
from contributions import services
from contributions.adapters.gateway import get_gateway
from contributions.models import (
    Bill,
    BillKind,
    BillStatus,
    Enrolment,
    PaidRecord,
    PayerType,
    Payment,
    PaymentChannel,
    PaymentLine,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from mandates.batch import run_batch_debit
from mandates.models import Mandate, MandateChannel, MandateStatus
from mandates.services import revoke_mandate, sign_mandate
from payers.models import Person, SmsMessage, User
from portal import demo
from tests.contributions.conftest import start
from tests.helpers import run_at_once
from unionpay_sandbox import tasks as sandbox_tasks
from unionpay_sandbox.models import SandboxOrder
from unionpay_sandbox.models import SandboxRefund as GatewayRefund

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

ZERO = Decimal("0.00")
CARD = "6222021234567890128"  # a sandbox test card that pays
TAKEN = [PaymentStatus.SUCCEEDED, PaymentStatus.REFUND_DUE, PaymentStatus.REFUNDED]
# What a thread may be told by the services; anything else is a failure of the test.
EXPECTED = (services.PaymentError, channel_services.TradeConflict)


# --- the scenario ------------------------------------------------------------------------------------

cents = st.integers(min_value=100, max_value=99_999).map(lambda c: Decimal(c).scaleb(-2))
operation = st.tuples(
    st.sampled_from(["card", "mandate", "counter", "channel"]),
    st.integers(min_value=0, max_value=3),  # which notices: a bit mask over them, 0 for all
    st.integers(min_value=1, max_value=3),  # card: notifications the gateway sends in the race
)


@st.composite
def payer(draw):
    notices = draw(st.lists(st.lists(cents, min_size=1, max_size=2), min_size=1, max_size=2))
    owed = sum((sum(bills) for bills in notices), ZERO)
    # From nothing to twice what is owed: enough for everything, for some notices, or for nothing.
    balance = draw(st.integers(min_value=0, max_value=int(owed * 200)).map(lambda c: Decimal(c).scaleb(-2)))
    return {
        "notices": notices,
        "mandate": draw(st.booleans()),
        "balance": balance,
        "operations": draw(st.lists(operation, min_size=1, max_size=3)),
    }


scenarios = st.fixed_dictionaries(
    {"payers": st.lists(payer(), min_size=1, max_size=3), "batch": st.booleans()}
).filter(lambda s: sum(len(p["operations"]) for p in s["payers"]) + s["batch"] <= 8)


@dataclass
class Payer:
    person: Person
    notice_numbers: list
    account: SandboxAccount
    balance: Decimal

    def notices(self, mask):
        chosen = [n for i, n in enumerate(self.notice_numbers) if mask & (1 << i)]
        return chosen or self.notice_numbers


SERIAL = itertools.count(1)


def make_payer(spec, *, template):
    """A flexible worker with the drawn notices (daily bills), a bank account and maybe a mandate."""
    n = next(SERIAL)
    person = Person.objects.create(name=f"并发{n}", id_number=f"31011519800101{n:04d}", phone=f"137{n:08d}")
    enrolment = Enrolment.objects.create(
        person=person,
        payer_type=PayerType.FLEXIBLE,
        agency=template.agency,
        personnel_number=f"8{n:012d}",
        category=template.category,
        tax_office=template.tax_office,
        valid_from=datetime.date(2019, 1, 1),
    )
    notice_numbers = []
    for k, amounts in enumerate(spec["notices"]):
        notice_numbers.append(f"8{n:08d}{k:02d}")
        for month, amount in enumerate(amounts, start=1):
            Bill.objects.create(
                notice_number=notice_numbers[-1],
                enrolment=enrolment,
                period_start=datetime.date(2020 + k, month, 1),
                period_end=datetime.date(2020 + k, month, 28),
                amount=amount,
                kind=BillKind.DAILY,
                tax_office=template.tax_office,
            )
    account = SandboxAccount.objects.create(
        bank="ICBC",
        account_number=f"62220288{n:011d}",
        holder_name=person.name,
        holder_id_number=person.id_number,
        reserved_phone=person.phone,
        balance=spec["balance"],
    )
    if spec["mandate"]:
        sign_mandate(
            person=person,
            bank="ICBC",
            account_number=account.account_number,
            reserved_phone=person.phone,
            channel=MandateChannel.ONLINE,
        )
    return Payer(person, notice_numbers, account, spec["balance"])


# --- what each thread does ---------------------------------------------------------------------------


def pay_by_card(payer, mask, deliveries):
    """The payer pays by card at the gateway; the gateway notifies `deliveries` times."""
    payment = services.start_payment(
        person=payer.person,
        notice_numbers=payer.notices(mask),
        method=PaymentMethod.CARD,
        channel=PaymentChannel.PORTAL,
        idempotency_key=uuid.uuid4().hex,
    )
    browser = Client()
    cashier = get_gateway().create_order(
        order_number=payment.order_number,
        amount=payment.amount,
        description="社会保险费",
        notify_url="http://testserver/contributions/gateway/notify/",
        return_url=f"http://testserver/contributions/payments/{payment.order_number}/",
    )
    browser.post(cashier, {"action": "pay", "card_number": CARD})
    for _ in range(deliveries):
        deliver_notification(browser, payment.order_number)


def deliver_notification(client, order_number):
    order = SandboxOrder.objects.get(order_number=order_number)
    answer = client.post(reverse("contributions:gateway_notify"), sandbox_tasks.notification_for(order))
    assert answer.content == b"success", answer.content


def pay_by_mandate(payer, mask, _):
    payment = services.start_payment(
        person=payer.person,
        notice_numbers=payer.notices(mask),
        method=PaymentMethod.MANDATE,
        channel=PaymentChannel.PORTAL,
        idempotency_key=uuid.uuid4().hex,
    )
    services.collect_by_mandate(payment)


def pay_at_counter(payer, mask, _, *, staff):
    services.pay_at_counter(
        person=payer.person, notice_numbers=payer.notices(mask), method=PaymentMethod.CASH, operator=staff
    )


def pay_in_a_channel(payer, mask, _):
    payment, _created = channel_services.create_order(
        channel=PaymentChannel.ALIPAY,
        idempotency_key=uuid.uuid4().hex,
        request_fingerprint="-",
        person=payer.person,
        notice_numbers=payer.notices(mask),
        pay_method="alipay",
    )
    channel_services.record_payment_result(
        channel=PaymentChannel.ALIPAY,
        order_number=payment.order_number,
        paid=True,
        amount=payment.amount,
        trade_no=f"ALI{payment.order_number}",
    )


def expected_only(call):
    """Run `call`; the services' refusals are an expected outcome of a race, not a failure."""

    def run():
        try:
            return call()
        except EXPECTED as refusal:
            return refusal

    return run


# --- the invariants ----------------------------------------------------------------------------------


def money_taken(payments):
    """What left the payers' pockets for these payments, by the books of the gateway, bank and counters."""
    orders = SandboxOrder.objects.filter(
        order_number__in=payments.values("order_number"),
        status__in=[SandboxOrder.Status.PAID, SandboxOrder.Status.REFUNDED],
    )
    debits = SandboxDebit.objects.filter(
        reference__in=payments.values("order_number"), result=SandboxDebit.Result.SUCCEEDED
    )
    elsewhere = payments.exclude(method__in=[PaymentMethod.CARD, PaymentMethod.MANDATE]).filter(
        status__in=TAKEN
    )
    return total(orders) + total(debits) + total(elsewhere)


def total(queryset):
    return queryset.aggregate(total=Sum("amount", default=ZERO))["total"]


def assert_no_money_lost_or_counted_twice(payers):
    persons = [p.person for p in payers]
    payments = Payment.objects.filter(person__in=persons)
    records = PaidRecord.objects.filter(enrolment__person__in=persons)

    assert not payments.filter(status=PaymentStatus.PENDING, channel=PaymentChannel.BATCH_DEBIT).exists()
    # Each bill: paid once at most, paid exactly when it has its one positive record, for its amount,
    # and what its records hold is what the succeeded payments took for it.
    per_bill = defaultdict(list)
    for bill_id, amount in records.values_list("bill_id", "amount"):
        per_bill[bill_id].append(amount)
    succeeded_lines = defaultdict(list)
    for bill_id, amount in PaymentLine.objects.filter(
        payment__in=payments, payment__status=PaymentStatus.SUCCEEDED
    ).values_list("bill_id", "amount"):
        succeeded_lines[bill_id].append(amount)
    for bill in Bill.objects.filter(enrolment__person__in=persons):
        positive = [a for a in per_bill[bill.pk] if a > 0]
        assert len(positive) <= 1, f"bill {bill} paid twice"
        assert (bill.status == BillStatus.PAID) == (len(positive) == 1), bill
        assert sum(per_bill[bill.pk], ZERO) == (bill.amount if bill.status == BillStatus.PAID else ZERO)
        assert sum(per_bill[bill.pk], ZERO) == sum(succeeded_lines[bill.pk], ZERO)
    # Each payment: a succeeded one has its records for its whole amount; no other has any.
    for payment in payments:
        paid = total(records.filter(payment=payment))
        assert paid == (payment.amount if payment.status == PaymentStatus.SUCCEEDED else ZERO), payment
    # Overall: every yuan taken is a paid record, or waits for its refund, or was refunded.
    refunded = total(Refund.objects.filter(payment__in=payments, status=RefundStatus.SUCCEEDED))
    assert money_taken(payments) - refunded == total(records) + total(
        payments.filter(status=PaymentStatus.REFUND_DUE)
    )
    # The gateway: each paid order is a settled payment (paid, or to be refunded).
    for order in SandboxOrder.objects.filter(order_number__in=payments.values("order_number")):
        payment = payments.get(order_number=order.order_number)
        if order.status in (SandboxOrder.Status.PAID, SandboxOrder.Status.REFUNDED):
            assert payment.status in TAKEN, (order.status, payment.status)
        else:
            assert payment.status not in TAKEN, (order.status, payment.status)
    # The bank: each successful debit has exactly one payment, which holds the money; balances add up.
    for payer in payers:
        debits = SandboxDebit.objects.filter(account=payer.account)
        for debit in debits:
            payment = payments.filter(order_number=debit.reference).get()
            assert payment.method == PaymentMethod.MANDATE
            assert (payment.status in TAKEN) == (debit.result == SandboxDebit.Result.SUCCEEDED), payment
        succeeded = total(debits.filter(result=SandboxDebit.Result.SUCCEEDED))
        payer.account.refresh_from_db()
        given_back = total(BankRefund.objects.filter(debit__account=payer.account))
        assert payer.account.balance + succeeded - given_back == payer.balance
    for payment in payments.filter(method=PaymentMethod.MANDATE, status__in=TAKEN):
        assert SandboxDebit.objects.filter(
            reference=payment.order_number, result=SandboxDebit.Result.SUCCEEDED
        ).exists()


def assert_refunded_once(payers, refundable):
    persons = [p.person for p in payers]
    for payment in Payment.objects.filter(pk__in=[p.pk for p in refundable]):
        assert payment.status == PaymentStatus.REFUNDED
        assert payment.refund.status == RefundStatus.SUCCEEDED and payment.refund.amount == payment.amount
        if payment.method == PaymentMethod.CARD:
            assert (
                GatewayRefund.objects.get(order__order_number=payment.order_number).amount == payment.amount
            )
        if payment.method == PaymentMethod.MANDATE:
            assert BankRefund.objects.get(debit__reference=payment.order_number).amount == payment.amount
    assert SmsMessage.objects.filter(phone__in=[p.phone for p in persons], purpose="refund").count() == len(
        refundable
    )
    # What is left to refund is only what a channel collected (the channel refunds it).
    left = Payment.objects.filter(person__in=persons, status=PaymentStatus.REFUND_DUE)
    assert set(left.values_list("channel", flat=True)) <= {PaymentChannel.ALIPAY}


# --- the tests ---------------------------------------------------------------------------------------


def waiting_on_a_lock():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_a_settlement_and_a_new_payment_for_the_same_bills_do_not_deadlock(seeded, flexible):
    """
    The race the property test found: settling a payment locked its bills in the order an UPDATE met them
    on disk, while start_payment locks them in primary-key order; crossed, the two deadlocked, and a
    mandate payment whose bank debit had gone through could be left pending. Here the first bill is
    rewritten (so it now lies after the second on disk) and held, as start_payment holds it, while the
    payment settles; then the second bill is taken too.
    """
    first, second = Bill.objects.filter(enrolment__person=flexible, kind=BillKind.DAILY).order_by("pk")[:2]
    assert first.notice_number == second.notice_number
    payment = start(flexible)
    # A status change writes the row anew after the second bill on disk (an indexed column: no HOT update),
    # as a rolled-back settlement or an import does.
    Bill.objects.filter(pk=first.pk).update(status=BillStatus.CANCELLED)
    Bill.objects.filter(pk=first.pk).update(status=BillStatus.UNPAID)
    holding_first, go_on = threading.Event(), threading.Event()

    def new_payment_locking_in_key_order():
        with transaction.atomic():
            Bill.objects.select_for_update().get(pk=first.pk)
            holding_first.set()
            assert go_on.wait(30)
            Bill.objects.select_for_update().get(pk=second.pk)

    def settle():
        assert holding_first.wait(30)
        return services.settle_payment(order_number=payment.order_number, amount=payment.amount).status

    def release_once_the_settlement_waits():
        assert holding_first.wait(30)
        deadline = time.monotonic() + 30
        while not waiting_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.05)
        go_on.set()

    outcomes = run_at_once(new_payment_locking_in_key_order, settle, release_once_the_settlement_waits)

    assert outcomes == [None, PaymentStatus.SUCCEEDED, None]
    assert PaidRecord.objects.filter(payment=payment).count() == 2


def test_a_new_payment_locks_only_its_bills_not_their_enrolment(seeded, flexible):
    """
    The second race the property test found: start_payment locked the enrolment row joined to the bills,
    which every bill of the person shares, so two payments for overlapping notices deadlocked on it. Now
    a payment goes through while another transaction (an import updating the enrolment) holds that row.
    """
    enrolment = Enrolment.objects.filter(person=flexible).first()
    holding, paid = threading.Event(), threading.Event()

    def import_updating_the_enrolment():
        with transaction.atomic():
            Enrolment.objects.filter(pk=enrolment.pk).update(base=enrolment.base)
            holding.set()
            return paid.wait(5)  # True: the payment did not wait for this transaction

    def pay():
        assert holding.wait(30)
        payment = start(flexible)
        paid.set()
        return payment.status

    assert run_at_once(import_updating_the_enrolment, pay) == [True, PaymentStatus.PENDING]


def test_money_is_never_lost_or_counted_twice_whatever_runs_at_once(monkeypatch):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    staff = User.objects.get(username=demo.STAFF_USERNAME)
    template = Enrolment.objects.filter(person__id_number=demo.PEOPLE[0].id_number).first()
    # Every day is a deduction day for the batch (each example runs its own day); the gateway's
    # asynchronous notifications are delivered by the test, in the race and once more afterwards.
    monkeypatch.setattr("contributions.calendar.is_auto_debit_day", lambda day: True)
    monkeypatch.setattr(sandbox_tasks.notify_merchant, "delay", lambda order_id: None)
    days = (timezone.localdate() - datetime.timedelta(days=k) for k in itertools.count(1))

    # 10 examples take about 20 s on two busy cores; MONEY_EXAMPLES=200 for a longer hunt.
    @settings(max_examples=int(os.environ.get("MONEY_EXAMPLES", "10")), deadline=None, database=None)
    @given(scenario=scenarios)
    def check(scenario):
        payers = [make_payer(spec, template=template) for spec in scenario["payers"]]
        kinds = {
            "card": pay_by_card,
            "mandate": pay_by_mandate,
            "counter": lambda *args: pay_at_counter(*args, staff=staff),
            "channel": pay_in_a_channel,
        }
        calls = [
            expected_only(lambda kind=kind, payer=payer, mask=mask, n=n: kinds[kind](payer, mask, n))
            for payer, spec in zip(payers, scenario["payers"], strict=True)
            for kind, mask, n in spec["operations"]
        ]
        if scenario["batch"]:
            day = next(days)
            calls.append(lambda: run_batch_debit(run_date=day))
        try:
            outcomes = run_at_once(*calls)
            assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, EXPECTED)], (
                outcomes
            )

            # The gateway retries its notification until the portal answers "success".
            orders = SandboxOrder.objects.filter(
                order_number__in=Payment.objects.filter(person__in=[p.person for p in payers]).values(
                    "order_number"
                ),
                status=SandboxOrder.Status.PAID,
            )
            for order in orders:
                deliver_notification(Client(), order.order_number)
            assert_no_money_lost_or_counted_twice(payers)

            # Staff refund what was paid twice, each one twice and at the same time.
            refundable = list(
                Payment.objects.filter(
                    person__in=[p.person for p in payers], status=PaymentStatus.REFUND_DUE
                ).exclude(channel=PaymentChannel.ALIPAY)
            )
            refunds = [lambda p=p: services.refund_payment(payment=p, operator=staff) for p in refundable]
            outcomes = run_at_once(*refunds, *refunds) if refunds else []
            assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
            assert_refunded_once(payers, refundable)
            assert_no_money_lost_or_counted_twice(payers)
        finally:
            for mandate in Mandate.objects.filter(
                person__in=[p.person for p in payers], status=MandateStatus.ACTIVE
            ):
                revoke_mandate(mandate=mandate, channel=MandateChannel.ONLINE)

    check()
