"""
Batch debits in bulk: the bank's batch file (批量代扣文件, `debit_many`) and the batch run's bulk path,
with the cases it hands to the per-mandate path (another pending payment, a bill paid meanwhile).
"""

from decimal import Decimal

import pytest

from bank_sandbox.models import SandboxAccount, SandboxDebit
from contributions.models import BillStatus, PaidRecord, Payment, PaymentChannel, PaymentStatus
from contributions.services import start_payment
from mandates.adapters.bank import DebitRequest, DebitStatus, SandboxBank, debit_many
from mandates.batch import run_batch_debit
from mandates.models import DebitAttempt, DebitResult
from tests.mandates.test_batch_debit import (  # noqa: F401 (fixtures)
    FLEXIBLE_OWES,
    RESIDENT_OWES,
    account,
    batch_sms,
    daily_bills,
    deduction_days,
    people,
    set_balance,
    sign,
)

pytestmark = pytest.mark.django_db


def sandbox_account(number, balance, *, frozen=False):
    return SandboxAccount.objects.create(
        bank="ICBC",
        account_number=number,
        holder_name="测试",
        holder_id_number="310115199001010000",
        reserved_phone="13900000000",
        balance=Decimal(balance),
        frozen=frozen,
    )


def request(number, amount, reference):
    return DebitRequest(bank="ICBC", account_number=number, amount=Decimal(amount), reference=reference)


def test_a_batch_file_never_overdraws_and_applies_each_reference_once():
    rich = sandbox_account("6222020000000000001", "100.00")
    frozen = sandbox_account("6222020000000000002", "500.00", frozen=True)
    bank = SandboxBank()
    earlier = bank.debit(
        bank="ICBC", account_number=rich.account_number, amount=Decimal("10.00"), reference="R0"
    )

    results = bank.debit_many(
        [
            request(rich.account_number, "60.00", "R1"),
            request(rich.account_number, "60.00", "R2"),  # 30.00 left: refused, not overdrawn
            request(rich.account_number, "30.00", "R3"),
            request(rich.account_number, "99.00", "R0"),  # processed before: its first result, no money
            request(frozen.account_number, "1.00", "R4"),
            request("6222029999999999999", "1.00", "R5"),
            request(rich.account_number, "60.00", "R1"),  # the same reference twice in one file
        ]
    )

    assert earlier.succeeded
    assert [r.status for r in results] == [
        DebitStatus.SUCCEEDED,
        DebitStatus.INSUFFICIENT_FUNDS,
        DebitStatus.SUCCEEDED,
        DebitStatus.SUCCEEDED,
        DebitStatus.ACCOUNT_FROZEN,
        DebitStatus.ACCOUNT_UNKNOWN,
        DebitStatus.SUCCEEDED,
    ]
    assert [r.reference for r in results] == ["R1", "R2", "R3", "R0", "R4", "R5", "R1"]
    rich.refresh_from_db()
    frozen.refresh_from_db()
    assert (rich.balance, frozen.balance) == (Decimal("0.00"), Decimal("500.00"))
    assert sorted(SandboxDebit.objects.values_list("reference", "amount", "result")) == [
        ("R0", Decimal("10.00"), "succeeded"),
        ("R1", Decimal("60.00"), "succeeded"),
        ("R2", Decimal("60.00"), "insufficient_funds"),
        ("R3", Decimal("30.00"), "succeeded"),
        ("R4", Decimal("1.00"), "account_frozen"),
    ]
    # Asked again, the bank answers from its records and moves nothing.
    assert [r.status for r in bank.debit_many([request(rich.account_number, "60.00", "R2")])] == [
        DebitStatus.INSUFFICIENT_FUNDS
    ]


def test_an_adapter_without_a_batch_interface_is_called_once_per_debit():
    calls = []

    class OneByOne:
        def debit(self, **kwargs):
            calls.append(kwargs["reference"])
            return SandboxBank().debit(**kwargs)

    sandbox_account("6222020000000000001", "100.00")

    results = debit_many(
        OneByOne(),
        [request("6222020000000000001", "60.00", "R1"), request("6222020000000000001", "60.00", "R2")],
    )

    assert calls == ["R1", "R2"]
    assert [r.status for r in results] == [DebitStatus.SUCCEEDED, DebitStatus.INSUFFICIENT_FUNDS]


def test_a_mandate_whose_bills_wait_in_a_card_payment_is_debited_one_by_one(people):  # noqa: F811
    flexible, resident = people["flexible"], people["resident"]
    sign(flexible, "flexible")
    sign(resident, "resident")
    set_balance("resident", "5000.00")
    notices = sorted(set(daily_bills(flexible).values_list("notice_number", flat=True)))
    card = start_payment(
        person=flexible, notice_numbers=notices, method="card", channel=PaymentChannel.PORTAL
    )

    summary = run_batch_debit()

    assert summary.message == "扣款日 2026-12-10：授权 2 户，成功 2 户 4169.90 元，余额不足 0 户，失败 0 户"
    card.refresh_from_db()
    assert card.status == PaymentStatus.CLOSED  # start_payment closed it, as for any newer payment
    batch = Payment.objects.filter(channel=PaymentChannel.BATCH_DEBIT)
    assert sorted(batch.values_list("amount", "status")) == [
        (RESIDENT_OWES, PaymentStatus.SUCCEEDED),
        (FLEXIBLE_OWES, PaymentStatus.SUCCEEDED),
    ]
    assert set(daily_bills(flexible).values_list("status", flat=True)) == {BillStatus.PAID}
    assert batch_sms().count() == 2


def test_a_bill_paid_while_its_page_was_at_the_bank_is_not_paid_twice(people, monkeypatch):  # noqa: F811
    flexible, resident = people["flexible"], people["resident"]
    sign(flexible, "flexible")
    sign(resident, "resident")
    set_balance("resident", "5000.00")
    taken = daily_bills(flexible).first()
    real_debit_many = SandboxBank.debit_many

    def paid_elsewhere_meanwhile(self, debits):
        # Whatever way it happened (a correction by staff, a channel's late report): the bill is paid.
        type(taken).objects.filter(pk=taken.pk).update(status=BillStatus.PAID)
        return real_debit_many(self, debits)

    monkeypatch.setattr(SandboxBank, "debit_many", paid_elsewhere_meanwhile)

    summary = run_batch_debit()

    assert (summary.succeeded, summary.failed) == (1, 1)
    flexible_payment = Payment.objects.get(person=flexible)
    assert flexible_payment.status == PaymentStatus.REFUND_DUE  # the money is on record, to go back
    assert not PaidRecord.objects.filter(payment=flexible_payment).exists()
    attempt = DebitAttempt.objects.get(mandate__person=flexible)
    assert (attempt.result, attempt.bank_message) == (
        DebitResult.FAILED,
        "应缴信息已由其他渠道缴纳，扣款待退还",
    )
    assert Payment.objects.get(person=resident).status == PaymentStatus.SUCCEEDED
    assert PaidRecord.objects.filter(payment__person=resident).count() == 2
    assert account("resident").balance == Decimal("5000.00") - RESIDENT_OWES
