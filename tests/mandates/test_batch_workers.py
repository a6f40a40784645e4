"""
The batch run's workers: on PostgreSQL the mandates are shared between `WORKERS` threads, each debiting
its pages on its own connection. They need committed data, hence `transaction=True` and PostgreSQL.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from bank_sandbox.models import SandboxAccount, SandboxDebit
from contributions.models import Bill, BillStatus, PaidRecord, Payment, PaymentStatus
from mandates.adapters.bank import SandboxBank
from mandates.batch import WORKERS, run_batch_debit
from mandates.models import DebitAttempt, DebitRun, DebitRunStatus
from tests.mandates.test_batch_debit import add_payers, batch_sms, people  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the workers run on PostgreSQL only"),
    pytest.mark.django_db(transaction=True),
]

PAYERS = 12


@pytest.fixture
def payers(people, monkeypatch):  # noqa: F811
    add_payers(PAYERS, first=1)
    monkeypatch.setattr("mandates.batch.PAGE_SIZE", 2)  # several pages in each worker's share
    return Bill.objects.filter(enrolment__person__name__startswith="测试")


def debited_once_each(bills):
    assert bills.filter(status=BillStatus.PAID).count() == PAYERS
    assert PaidRecord.objects.filter(bill__in=bills).count() == PAYERS
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == PAYERS
    assert SandboxDebit.objects.count() == DebitAttempt.objects.count() == PAYERS
    assert set(
        SandboxAccount.objects.filter(holder_name__startswith="测试").values_list("balance", flat=True)
    ) == {Decimal("10000.00") - Decimal("1492.00")}
    assert batch_sms().count() == PAYERS


def test_the_workers_share_the_pages_and_debit_each_mandate_once(payers, monkeypatch):
    real_debit_many = SandboxBank.debit_many
    threads = set()

    def debit_many(self, debits):
        threads.add(threading.current_thread().name)
        return real_debit_many(self, debits)

    monkeypatch.setattr(SandboxBank, "debit_many", debit_many)
    summary = run_batch_debit()

    assert (summary.mandates, summary.succeeded) == (PAYERS, PAYERS)
    assert summary.amount == PAYERS * Decimal("1492.00")
    assert len(threads) == WORKERS > 1
    debited_once_each(payers)


def test_a_worker_that_fails_stops_the_run_which_resumes_without_debiting_twice(payers, monkeypatch):
    real_debit_many = SandboxBank.debit_many
    calls = []

    def fail_the_third_file(self, debits):
        calls.append(len(debits))
        if len(calls) == 3:
            raise RuntimeError("银行连接中断")
        return real_debit_many(self, debits)

    with monkeypatch.context() as patch:
        patch.setattr(SandboxBank, "debit_many", fail_the_third_file)
        with pytest.raises(RuntimeError, match="银行连接中断"):
            run_batch_debit()

    assert DebitRun.objects.get().status == DebitRunStatus.FAILED
    assert 0 < DebitAttempt.objects.count() < PAYERS

    summary = run_batch_debit(resume=True)

    assert (summary.mandates, summary.succeeded) == (PAYERS, PAYERS)
    assert DebitRun.objects.get().status == DebitRunStatus.FINISHED
    debited_once_each(payers)
