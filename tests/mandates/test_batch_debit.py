"""
SPEC rule 9: the bureau debits mandate accounts on scheduled days (moved to the next working day when a
holiday falls on one) and retries on each deduction day until the bills' deadline passes.

Dates use the real 2025/2026 holiday calendar seeded by contributions' migration 0004; the scheduled days
are the 10th and 20th. Demo data (`seed_demo`) is made on the day the test travels to, so the flexible
worker owes last month's daily bills (2349.90, payable to the month's end) and the resident owes the
year's pension and next year's medical insurance as daily bills (1100.00 + 720.00, to the year's end).
"""

import datetime
import threading
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bank_sandbox.models import SandboxAccount, SandboxDebit
from contributions.calendar import auto_debit_days
from contributions.models import (
    Bill,
    BillKind,
    BillStatus,
    Enrolment,
    PaidRecord,
    Payment,
    PaymentChannel,
    PaymentMethod,
    PaymentStatus,
)
from contributions.services import IN_BATCH_DEBIT, PaymentError, start_payment
from mandates import tasks
from mandates.adapters.bank import SandboxBank
from mandates.batch import Outcome, run_batch_debit
from mandates.models import DebitAttempt, DebitResult, DebitRun, DebitRunStatus, MandateChannel
from mandates.services import revoke_mandate, sign_mandate
from payers.models import Person, SmsMessage, User
from portal import demo
from tests.helpers import log_in_staff

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
ACCOUNTS = {"flexible": ("ICBC", "6222021001150017009"), "resident": ("SRCB", "6224780000006220020")}
FLEXIBLE_OWES, RESIDENT_OWES = Decimal("2349.90"), Decimal("1820.00")
DEC_10, DEC_11, DEC_20, DEC_21 = (datetime.date(2026, 12, day) for day in (10, 11, 20, 21))


@pytest.fixture(autouse=True)
def deduction_days(settings):
    settings.AUTO_DEBIT_DAYS = [10, 20]


def go_to(time_machine, day):
    time_machine.move_to(datetime.datetime.combine(day, datetime.time(6, 0), tzinfo=SHANGHAI), tick=False)


def seed():
    call_command("seed_demo", stdout=StringIO())
    return {spec.key: Person.objects.get(id_number=spec.id_number) for spec in demo.PEOPLE}


def sign(person, key):
    bank, number = ACCOUNTS[key]
    return sign_mandate(
        person=person,
        bank=bank,
        account_number=number,
        reserved_phone=person.phone,
        channel=MandateChannel.ONLINE,
    )


def account(key):
    bank, number = ACCOUNTS[key]
    return SandboxAccount.objects.get(bank=bank, account_number=number)


def set_balance(key, amount):
    SandboxAccount.objects.filter(pk=account(key).pk).update(balance=Decimal(amount))


def daily_bills(person):
    return Bill.objects.filter(enrolment__person=person, kind=BillKind.DAILY)


def batch_sms(phone=None):
    messages = SmsMessage.objects.filter(purpose="batch_debit")
    return messages.filter(phone=phone) if phone else messages


@pytest.fixture
def people(time_machine):
    go_to(time_machine, DEC_10)
    return seed()


def test_rule_9_a_deduction_day_debits_the_payable_daily_bills(people):
    flexible = people["flexible"]
    mandate = sign(flexible, "flexible")

    summary = run_batch_debit()

    assert summary.outcome == Outcome.FINISHED
    assert summary.message == "扣款日 2026-12-10：授权 1 户，成功 1 户 2349.90 元，余额不足 0 户，失败 0 户"
    assert set(daily_bills(flexible).values_list("status", flat=True)) == {BillStatus.PAID}
    special = Bill.objects.filter(enrolment__person=flexible, kind=BillKind.SPECIAL)
    assert set(special.values_list("status", flat=True)) == {BillStatus.UNPAID}
    payment = Payment.objects.get()
    assert (payment.person, payment.method, payment.channel, payment.status, payment.amount) == (
        flexible,
        PaymentMethod.MANDATE,
        PaymentChannel.BATCH_DEBIT,
        PaymentStatus.SUCCEEDED,
        FLEXIBLE_OWES,
    )
    assert PaidRecord.objects.filter(payment=payment).count() == 2
    attempt = DebitAttempt.objects.get()
    assert (attempt.mandate, attempt.payment, attempt.result, attempt.amount) == (
        mandate,
        payment,
        DebitResult.SUCCEEDED,
        FLEXIBLE_OWES,
    )
    run = DebitRun.objects.get()
    assert (run.run_date, run.status, run.mandates_seen, run.succeeded, run.amount_collected) == (
        DEC_10,
        DebitRunStatus.FINISHED,
        1,
        1,
        FLEXIBLE_OWES,
    )
    assert account("flexible").balance == Decimal("50000.00") - FLEXIBLE_OWES
    assert batch_sms().get().phone == flexible.phone
    assert (
        batch_sms().get().body
        == "【上海市电子税务局】您的社会保险费2349.90元已于2026年12月10日通过委托扣款缴纳成功。"
    )
    # 李居民 signed no mandate: nothing is debited for her.
    assert not Payment.objects.filter(person=people["resident"]).exists()


def test_rule_9_nothing_is_debited_on_a_day_that_is_not_a_deduction_day(people, time_machine):
    sign(people["flexible"], "flexible")
    go_to(time_machine, DEC_11)

    message = tasks.run_batch_debit_today()

    assert message == "2026-12-11 不是扣款日，未执行批量扣款。"
    assert (
        not DebitRun.objects.exists() and not Payment.objects.exists() and not SandboxDebit.objects.exists()
    )


def test_rule_9_a_deduction_day_on_a_holiday_moves_to_the_next_working_day(time_machine):
    spring_festival, next_working_day = datetime.date(2026, 2, 20), datetime.date(2026, 2, 24)
    assert auto_debit_days(2026, 2) == [datetime.date(2026, 2, 10), next_working_day]
    go_to(time_machine, spring_festival)
    flexible = seed()["flexible"]
    sign(flexible, "flexible")

    on_the_holiday = run_batch_debit()
    go_to(time_machine, next_working_day)
    on_the_moved_day = run_batch_debit()

    assert on_the_holiday.outcome == Outcome.NOT_DEBIT_DAY
    assert on_the_moved_day.succeeded == 1
    assert list(DebitRun.objects.values_list("run_date", flat=True)) == [next_working_day]
    assert set(daily_bills(flexible).values_list("status", flat=True)) == {BillStatus.PAID}
    assert "已于2026年2月24日通过委托扣款缴纳成功" in batch_sms().get().body


def test_rule_9_insufficient_funds_are_debited_again_on_the_next_deduction_day(people, time_machine):
    resident = people["resident"]
    sign(resident, "resident")  # the demo account holds 100.00

    first = run_batch_debit()

    assert first.message == "扣款日 2026-12-10：授权 1 户，成功 0 户 0.00 元，余额不足 1 户，失败 0 户"
    attempt = DebitAttempt.objects.get()
    assert (attempt.result, attempt.bank_message, attempt.amount) == (
        DebitResult.INSUFFICIENT_FUNDS,
        "账户余额不足",
        RESIDENT_OWES,
    )
    assert attempt.payment.status == PaymentStatus.FAILED
    assert set(daily_bills(resident).values_list("status", flat=True)) == {BillStatus.UNPAID}
    assert account("resident").balance == Decimal("100.00")
    assert batch_sms(resident.phone).get().body == (
        "【上海市电子税务局】您的授权账户余额不足，社会保险费1820.00元扣款未成功，请于下一扣款日前存入足额款项。"
    )

    set_balance("resident", "5000.00")
    go_to(time_machine, DEC_20)  # a Sunday: the debit moves to Monday the 21st
    assert run_batch_debit().outcome == Outcome.NOT_DEBIT_DAY
    go_to(time_machine, DEC_21)
    second = run_batch_debit()

    assert second.message == "扣款日 2026-12-21：授权 1 户，成功 1 户 1820.00 元，余额不足 0 户，失败 0 户"
    assert set(daily_bills(resident).values_list("status", flat=True)) == {BillStatus.PAID}
    assert account("resident").balance == Decimal("5000.00") - RESIDENT_OWES
    assert batch_sms(resident.phone).count() == 2


def test_rule_9_the_window_closes_when_the_bills_deadline_passes(time_machine):
    go_to(time_machine, datetime.date(2026, 11, 20))
    flexible = seed()["flexible"]  # October's daily bills, payable until 30 November
    sign(flexible, "flexible")
    set_balance("flexible", "100.00")
    assert run_batch_debit().insufficient_funds == 1

    set_balance("flexible", "50000.00")
    go_to(time_machine, DEC_10)
    summary = run_batch_debit()

    assert (summary.outcome, summary.mandates) == (Outcome.FINISHED, 0)
    assert set(daily_bills(flexible).values_list("status", flat=True)) == {BillStatus.UNPAID}
    assert SandboxDebit.objects.count() == 1
    assert account("flexible").balance == Decimal("50000.00")


def test_rule_9_a_revoked_mandate_is_not_debited(people):
    mandate = sign(people["flexible"], "flexible")
    revoke_mandate(mandate=mandate, channel=MandateChannel.ONLINE)

    summary = run_batch_debit()

    assert (summary.outcome, summary.mandates) == (Outcome.FINISHED, 0)
    assert not Payment.objects.exists() and not SandboxDebit.objects.exists()


def test_rule_9_a_mandate_takes_effect_only_while_the_enrolment_is_valid(people):
    flexible = people["flexible"]
    sign(flexible, "flexible")
    Enrolment.objects.filter(person=flexible).update(valid_to=datetime.date(2026, 11, 30))

    assert run_batch_debit().mandates == 0
    assert not Payment.objects.exists()


def test_rule_9_rerunning_the_same_day_debits_nothing_more(people):
    sign(people["flexible"], "flexible")
    sign(people["resident"], "resident")
    run_batch_debit()
    balances = {key: account(key).balance for key in ACCOUNTS}

    out = StringIO()
    call_command("run_batch_debit", "--date", "2026-12-10", stdout=out)
    resumed = run_batch_debit(resume=True)

    assert out.getvalue().strip() == (
        "扣款日 2026-12-10 的批量扣款已执行：授权 2 户，成功 1 户 2349.90 元，余额不足 1 户，失败 0 户"
    )
    assert resumed.outcome == Outcome.ALREADY_DONE
    assert {key: account(key).balance for key in ACCOUNTS} == balances
    assert (DebitRun.objects.count(), Payment.objects.count(), SandboxDebit.objects.count()) == (1, 2, 2)
    assert batch_sms().count() == 2


def test_rule_9_the_command_prints_the_days_summary(people):
    sign(people["flexible"], "flexible")
    out = StringIO()

    call_command("run_batch_debit", stdout=out)

    assert (
        out.getvalue().strip()
        == "扣款日 2026-12-10：授权 1 户，成功 1 户 2349.90 元，余额不足 0 户，失败 0 户"
    )
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("run_batch_debit", "--date", "10/12/2026")
    with pytest.raises(CommandError, match="未到，不能提前扣款"):
        call_command("run_batch_debit", "--date", "2026-12-21")


def test_rule_9_a_dry_run_writes_nothing(people):
    sign(people["flexible"], "flexible")
    sign(people["resident"], "resident")
    out = StringIO()

    call_command("run_batch_debit", "--dry-run", stdout=out)

    assert out.getvalue().strip() == "扣款日 2026-12-10（试算，未扣款）：待扣款 2 户，合计 4169.90 元"
    assert not DebitRun.objects.exists() and not Payment.objects.exists()
    assert not SandboxDebit.objects.exists() and not batch_sms().exists()
    assert account("flexible").balance == Decimal("50000.00")
    assert not Bill.objects.filter(status=BillStatus.PAID).exists()


def test_rule_9_self_service_refuses_bills_in_a_batch_debit_in_flight(people, monkeypatch):
    flexible = people["flexible"]
    sign(flexible, "flexible")
    notices = sorted(set(daily_bills(flexible).values_list("notice_number", flat=True)))
    real_debit_many = SandboxBank.debit_many
    refusals = []

    def debit_while_the_payer_pays_by_hand(self, debits):
        try:
            start_payment(
                person=flexible, notice_numbers=notices, method="card", channel=PaymentChannel.PORTAL
            )
        except PaymentError as error:
            refusals.append(str(error))
        return real_debit_many(self, debits)

    monkeypatch.setattr(SandboxBank, "debit_many", debit_while_the_payer_pays_by_hand)

    summary = run_batch_debit()

    assert refusals == [IN_BATCH_DEBIT] == ["所选应缴信息正在批量扣款中，请稍后再试。"]
    assert summary.succeeded == 1
    assert list(Payment.objects.values_list("channel", "status")) == [
        (PaymentChannel.BATCH_DEBIT, PaymentStatus.SUCCEEDED)
    ]


class WorkerKilled(BaseException):
    """What a killed worker looks like to the code: nothing after it runs, not even `except Exception`."""


@pytest.mark.parametrize(
    ("crash", "bank_debited_first", "left_as"),
    [
        (RuntimeError, False, DebitRunStatus.FAILED),  # the bank's connection fails before the debit
        (WorkerKilled, True, DebitRunStatus.RUNNING),  # the worker dies after the bank debited
    ],
)
def test_rule_9_a_crashed_run_resumes_without_debiting_twice(
    people, monkeypatch, crash, bank_debited_first, left_as
):
    flexible, resident = people["flexible"], people["resident"]
    sign(flexible, "flexible")
    sign(resident, "resident")
    set_balance("resident", "5000.00")
    real_debit_many = SandboxBank.debit_many
    calls = []

    def crash_on_the_second_mandate(self, debits):
        calls.append([debit.reference for debit in debits])
        if len(calls) == 2:
            if bank_debited_first:
                real_debit_many(self, debits)
            raise crash("银行连接中断")
        return real_debit_many(self, debits)

    with monkeypatch.context() as patch:
        patch.setattr(SandboxBank, "debit_many", crash_on_the_second_mandate)
        patch.setattr("mandates.batch.PAGE_SIZE", 1)  # one mandate per batch file
        with pytest.raises(crash):
            run_batch_debit()

    assert DebitRun.objects.get().status == left_as
    assert DebitAttempt.objects.count() == 1
    notices = sorted(set(daily_bills(resident).values_list("notice_number", flat=True)))
    with pytest.raises(PaymentError, match="正在批量扣款中"):
        start_payment(person=resident, notice_numbers=notices, method="card", channel=PaymentChannel.PORTAL)
    with pytest.raises(CommandError, match="--resume"):
        call_command("run_batch_debit", stdout=StringIO())

    summary = run_batch_debit(resume=True)

    assert summary.message == "扣款日 2026-12-10：授权 2 户，成功 2 户 4169.90 元，余额不足 0 户，失败 0 户"
    assert DebitRun.objects.get().status == DebitRunStatus.FINISHED
    assert SandboxDebit.objects.filter(result="succeeded").count() == 2
    assert account("flexible").balance == Decimal("50000.00") - FLEXIBLE_OWES
    assert account("resident").balance == Decimal("5000.00") - RESIDENT_OWES
    assert sorted(Payment.objects.values_list("status", flat=True)) == [PaymentStatus.SUCCEEDED] * 2
    assert batch_sms().count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_rule_9_two_runs_at_once_debit_each_mandate_once(people):
    from django.db import connections

    sign(people["flexible"], "flexible")
    sign(people["resident"], "resident")
    set_balance("resident", "5000.00")
    barrier = threading.Barrier(2)
    outcomes = []

    def run():
        try:
            barrier.wait()
            outcomes.append(run_batch_debit().outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Outcome.FINISHED in outcomes and len(outcomes) == 2
    assert set(outcomes) - {Outcome.FINISHED} <= {Outcome.REFUSED, Outcome.ALREADY_DONE}
    assert DebitRun.objects.count() == 1
    assert (Payment.objects.count(), SandboxDebit.objects.count(), DebitAttempt.objects.count()) == (2, 2, 2)
    assert account("flexible").balance == Decimal("50000.00") - FLEXIBLE_OWES
    assert account("resident").balance == Decimal("5000.00") - RESIDENT_OWES


def add_payers(count, *, first):
    """`count` flexible workers, each with one daily bill of 1492.00 for November and a signed mandate."""
    template = Enrolment.objects.filter(person__id_number=demo.PEOPLE[0].id_number).first()
    for number in range(first, first + count):
        person = Person.objects.create(
            name=f"测试{number}", id_number=f"31011519900101{number:04d}", phone=f"139{number:08d}"
        )
        enrolment = Enrolment.objects.create(
            person=person,
            payer_type=template.payer_type,
            agency=template.agency,
            personnel_number=f"9{number:012d}",
            category=template.category,
            base=template.base,
            tax_office=template.tax_office,
            valid_from=datetime.date(2019, 1, 1),
        )
        Bill.objects.create(
            notice_number=f"9{number:012d}",
            enrolment=enrolment,
            period_start=datetime.date(2026, 11, 1),
            period_end=datetime.date(2026, 11, 30),
            amount=Decimal("1492.00"),
            tax_office=template.tax_office,
            payable_until=datetime.date(2026, 12, 31),
        )
        SandboxAccount.objects.create(
            bank="ICBC",
            account_number=f"622202{number:013d}",
            holder_name=person.name,
            holder_id_number=person.id_number,
            reserved_phone=person.phone,
            balance=Decimal("10000.00"),
        )
        sign_mandate(
            person=person,
            bank="ICBC",
            account_number=f"622202{number:013d}",
            reserved_phone=person.phone,
            channel=MandateChannel.ONLINE,
        )


def measured_run(**kwargs):
    """Run, counting queries: (total, queries between one mandate's progress report and the next)."""
    marks = []
    with CaptureQueriesContext(connection) as queries:
        summary = run_batch_debit(
            progress=lambda done, total: marks.append(len(connection.queries_log)), **kwargs
        )
    return summary, len(queries), {later - earlier for earlier, later in zip(marks, marks[1:], strict=False)}


def test_rule_9_the_run_queries_per_page_not_per_mandate(people, time_machine, monkeypatch):
    """
    What is asserted: finding what to debit (mandates, their bills, earlier attempts, pending payments)
    costs the same number of queries for 10 and 50 mandates, both for a dry run (which does only that)
    and for a real run once each mandate's own work is taken off; and each mandate's own work (start the
    payment, debit, settle, record the attempt, send the SMS) costs the same number of queries for every
    mandate, so the total is a constant plus a constant per mandate.
    """
    add_payers(10, first=1)
    dry_10, dry_queries_10, _ = measured_run(dry_run=True)
    run_10, queries_10, per_mandate_10 = measured_run()

    go_to(time_machine, DEC_21)
    add_payers(50, first=101)  # the first ten paid on the 10th: nothing left to debit for them
    dry_50, dry_queries_50, _ = measured_run(dry_run=True)
    with monkeypatch.context() as patch:
        patch.setattr("mandates.batch.PAGE_SIZE", 7)
        assert run_batch_debit(dry_run=True).mandates == 50  # pages of 7 walk every mandate
    run_50, queries_50, per_mandate_50 = measured_run()

    assert (dry_10.mandates, dry_10.amount) == (10, Decimal("14920.00"))
    assert (dry_50.mandates, dry_50.amount) == (50, Decimal("74600.00"))
    assert (run_10.succeeded, run_50.succeeded) == (10, 50)
    assert dry_queries_10 == dry_queries_50 <= 10
    assert len(per_mandate_10) == 1 and per_mandate_10 == per_mandate_50
    per_mandate = per_mandate_10.pop()
    assert per_mandate <= 40
    assert queries_10 - 10 * per_mandate == queries_50 - 50 * per_mandate


def test_rule_9_staff_see_runs_and_attempts_masked_in_admin(people, client):
    sign(people["flexible"], "flexible")
    sign(people["resident"], "resident")
    run_batch_debit()
    log_in_staff(client, User.objects.get(username=demo.STAFF_USERNAME))
    attempt = DebitAttempt.objects.filter(result=DebitResult.INSUFFICIENT_FUNDS).get()

    pages = [
        client.get(reverse("admin:mandates_debitrun_changelist")),
        client.get(reverse("admin:mandates_debitattempt_changelist")),
        client.get(reverse("admin:mandates_debitattempt_changelist"), {"result": "insufficient_funds"}),
        client.get(reverse("admin:mandates_debitattempt_change", args=[attempt.pk])),
    ]

    assert [page.status_code for page in pages] == [200] * 4
    assert "**活" in pages[1].content.decode() and "**民" in pages[2].content.decode()
    assert "**活" not in pages[2].content.decode()
    for page in pages:
        for person in (people["flexible"], people["resident"]):
            assert person.name not in page.content.decode()
            assert person.id_number not in page.content.decode()
