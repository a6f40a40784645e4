"""
批量扣款: on each deduction day the bureau debits the mandate accounts for the payable daily bills
(SPEC rule 9: "定期（逢国定节假日顺延）委托承办银行进行扣缴，在扣缴期限内循环扣缴直至成功为止").

Guarantees, each with a test:
- it runs only on a deduction day (`contributions.calendar.is_auto_debit_day`, holidays moved);
- one run per day and one run at a time (a `DebitRun` row: unique date, at most one running), so a
  second worker, a replayed task or a rerun debits nothing;
- a mandate is debited at most once per day: its payment has an idempotency key made of the day, the
  mandate and the notices, and the bank never applies a reference (the order number) twice, so a run
  that crashed half-way resumes (`resume=True`) without debiting anyone twice;
- a debit that fails leaves the bills payable: the next deduction day tries again, until the bills'
  `payable_until` passes (the deduction window);
- the queries that find what to debit are made per page of mandates, not per mandate; what is written
  per mandate (payment, debit, paid records, attempt, SMS) is the unavoidable part.

Nothing here runs inside a transaction of its own: each payment is committed before its debit, so the
bank reference is on record whatever happens next.
"""

import datetime
import enum
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Exists, OuterRef, Q, Sum, When
from django.utils import timezone

from contributions import calendar
from contributions.models import (
    Bill,
    BillKind,
    BillStatus,
    Payment,
    PaymentChannel,
    PaymentMethod,
    PaymentStatus,
)
from contributions.services import (
    PaymentError,
    collect_by_mandate,
    fail_payment,
    settle_payment,
    start_payment,
)
from mandates.adapters.bank import DebitStatus, get_bank
from mandates.models import DebitAttempt, DebitResult, DebitRun, DebitRunStatus, Mandate, MandateStatus
from payers.adapters.sms import send_sms

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000
ZERO = Decimal("0.00")

SMS_SUCCEEDED = "【上海市电子税务局】您的社会保险费{amount}元已于{day}通过委托扣款缴纳成功。"
SMS_INSUFFICIENT = (
    "【上海市电子税务局】您的授权账户余额不足，社会保险费{amount}元扣款未成功，请于下一扣款日前存入足额款项。"
)


class Outcome(enum.StrEnum):
    NOT_DEBIT_DAY = "not_debit_day"
    ALREADY_DONE = "already_done"
    REFUSED = "refused"  # another run is in progress or must be resumed first
    FINISHED = "finished"
    DRY_RUN = "dry_run"


@dataclass(frozen=True)
class BatchSummary:
    run_date: datetime.date
    outcome: Outcome
    mandates: int = 0
    succeeded: int = 0
    insufficient_funds: int = 0
    failed: int = 0
    amount: Decimal = ZERO  # collected; for a dry run, what would be debited
    reason: str = ""

    @property
    def message(self):
        day = f"{self.run_date:%Y-%m-%d}"
        counts = (
            f"授权 {self.mandates} 户，成功 {self.succeeded} 户 {self.amount:.2f} 元，"
            f"余额不足 {self.insufficient_funds} 户，失败 {self.failed} 户"
        )
        if self.outcome == Outcome.NOT_DEBIT_DAY:
            return f"{day} 不是扣款日，未执行批量扣款。"
        if self.outcome == Outcome.ALREADY_DONE:
            return f"扣款日 {day} 的批量扣款已执行：{counts}"
        if self.outcome == Outcome.REFUSED:
            return self.reason
        if self.outcome == Outcome.DRY_RUN:
            return f"扣款日 {day}（试算，未扣款）：待扣款 {self.mandates} 户，合计 {self.amount:.2f} 元"
        return f"扣款日 {day}：{counts}"


@dataclass(frozen=True)
class Planned:
    """What a mandate's account is to be debited for on the run's day."""

    mandate: Mandate
    notice_numbers: list
    amount: Decimal

    def idempotency_key(self, run_date):
        digest = hashlib.sha256(",".join(self.notice_numbers).encode()).hexdigest()[:16]
        return f"batch:{run_date:%Y-%m-%d}:{self.mandate.pk}:{digest}"


def run_batch_debit(*, run_date=None, dry_run=False, resume=False, progress=None):
    """
    Debit every active mandate whose payer has payable daily bills on `run_date` (default: today).

    Does nothing on a day that is not a deduction day, or when the day's run has finished. Refuses
    while a run is in progress, and after a failed or interrupted one unless `resume` (which finishes
    it, skipping the mandates already attempted). `dry_run` writes nothing and calls no bank: it says
    how many accounts would be debited for how much. `progress(done, total)` is called per mandate.
    """
    today = timezone.localdate()
    run_date = run_date or today
    if not calendar.is_auto_debit_day(run_date):
        return BatchSummary(run_date, Outcome.NOT_DEBIT_DAY)
    if dry_run:
        return _dry_run(run_date, resume=resume, progress=progress)
    if run_date > today:
        return BatchSummary(
            run_date, Outcome.REFUSED, reason=f"扣款日 {run_date:%Y-%m-%d} 未到，不能提前扣款。"
        )
    run, refusal = _open_run(run_date, resume=resume)
    if refusal:
        return refusal
    try:
        _debit_all(run, progress=progress)
        _resolve_orphans()
    except Exception:
        # A crash that kills the process leaves the run "running" instead; both are resumed alike.
        logger.exception("batch debit of %s failed; resume it once the cause is fixed", run_date)
        _record_counts(run, status=DebitRunStatus.FAILED)
        raise
    _record_counts(run, status=DebitRunStatus.FINISHED)
    run.refresh_from_db()
    logger.info("batch debit of %s finished: %s succeeded of %s", run_date, run.succeeded, run.mandates_seen)
    return _summary(run, Outcome.FINISHED)


def _open_run(run_date, *, resume):
    """The day's run, claimed for this process; or a summary saying why not."""
    try:
        with transaction.atomic():
            return DebitRun.objects.create(run_date=run_date), None
    except IntegrityError:
        pass  # the day's run exists, or another day's run is in progress
    run = DebitRun.objects.filter(run_date=run_date).first()
    if run is None:
        return None, _another_run_in_progress(run_date)
    refusal = _refusal(run_date, run, resume=resume)
    if refusal:
        return None, refusal
    try:
        with transaction.atomic():
            DebitRun.objects.filter(
                pk=run.pk, status__in=[DebitRunStatus.RUNNING, DebitRunStatus.FAILED]
            ).update(status=DebitRunStatus.RUNNING, finished_at=None)
    except IntegrityError:
        return None, _another_run_in_progress(run_date)
    run.refresh_from_db()
    if run.status == DebitRunStatus.FINISHED:
        return None, _summary(run, Outcome.ALREADY_DONE)
    logger.warning("batch debit of %s resumed", run_date)
    return run, None


def _refusal(run_date, run, *, resume):
    """Why an existing run (or another day's run in progress, when `run` is None) stops this one."""
    if run is None:
        return _another_run_in_progress(run_date) if _running_run(exclude=run_date) else None
    if run.status == DebitRunStatus.FINISHED:
        return _summary(run, Outcome.ALREADY_DONE)
    if resume:
        return None
    day = f"{run_date:%Y-%m-%d}"
    if run.status == DebitRunStatus.RUNNING:
        reason = (
            f"扣款日 {day} 的批量扣款正在执行，请勿重复执行。如确认上次执行已中断，请使用 --resume 继续。"
        )
    else:
        reason = f"扣款日 {day} 的批量扣款上次执行失败，请排查原因后使用 --resume 继续。"
    return BatchSummary(run_date, Outcome.REFUSED, reason=reason)


def _running_run(*, exclude):
    return DebitRun.objects.filter(status=DebitRunStatus.RUNNING).exclude(run_date=exclude).first()


def _another_run_in_progress(run_date):
    other = _running_run(exclude=run_date)
    day = f"{other.run_date:%Y-%m-%d}" if other else "另一"
    return BatchSummary(
        run_date,
        Outcome.REFUSED,
        reason=f"扣款日 {day} 的批量扣款尚未结束，请待其完成（或使用 --resume 继续）后再执行。",
    )


def _debit_all(run, *, progress):
    candidates = _candidates(run.run_date)
    total, done = candidates.count(), 0
    for page in _pages(candidates):
        mandate_ids = [mandate.pk for mandate in page]
        attempted = set(
            DebitAttempt.objects.filter(run=run, mandate_id__in=mandate_ids).values_list(
                "mandate_id", flat=True
            )
        )
        plans = _plan(page, run_date=run.run_date)
        _resolve_superseded(plans, run_date=run.run_date)
        for mandate in page:
            plan = plans.get(mandate.pk)
            if plan and mandate.pk not in attempted:
                _debit(run, plan)
            done += 1
            if progress:
                progress(done, total)
        _record_counts(run)


def _dry_run(run_date, *, resume, progress):
    run = DebitRun.objects.filter(run_date=run_date).first()
    refusal = _refusal(run_date, run, resume=resume)
    if refusal:
        return refusal
    candidates = _candidates(run_date)
    total, done, count, amount = candidates.count(), 0, 0, ZERO
    for page in _pages(candidates):
        attempted = set()
        if run:
            attempted = set(
                run.attempts.filter(mandate_id__in=[m.pk for m in page]).values_list("mandate_id", flat=True)
            )
        plans = _plan(page, run_date=run_date)
        for mandate in page:
            plan = plans.get(mandate.pk)
            if plan and mandate.pk not in attempted:
                count += 1
                amount += plan.amount
            done += 1
            if progress:
                progress(done, total)
    return BatchSummary(run_date, Outcome.DRY_RUN, mandates=count, amount=amount)


def _candidates(run_date):
    """Active mandates whose payer has a daily bill payable on `run_date` under a valid enrolment."""
    due = Bill.objects.filter(
        _payable_on(run_date), enrolment__person_id=OuterRef("person_id"), status=BillStatus.UNPAID
    )
    return Mandate.objects.filter(Exists(due), status=MandateStatus.ACTIVE)


def _payable_on(run_date):
    return (
        Q(kind=BillKind.DAILY, enrolment__valid_from__lte=run_date)
        & (Q(payable_until__isnull=True) | Q(payable_until__gte=run_date))
        & (Q(enrolment__valid_to__isnull=True) | Q(enrolment__valid_to__gte=run_date))
    )


def _pages(candidates):
    """The candidates by primary key, PAGE_SIZE at a time: memory stays bounded whatever the volume."""
    last = 0
    while True:
        page = list(candidates.filter(pk__gt=last).select_related("person").order_by("pk")[:PAGE_SIZE])
        if not page:
            return
        yield page
        last = page[-1].pk


def _plan(page, *, run_date):
    """
    The notices to debit for each mandate of a page, from one query of the page's unpaid bills.

    A notice is debited whole (SPEC rule 3): when one of its bills is a daily bill payable on the day
    under a valid enrolment (the mandate takes effect only while the enrolment is valid, SPEC rule 8),
    and none of its bills is past its deadline.
    """
    by_person = {mandate.person_id: mandate for mandate in page}
    rows = (
        Bill.objects.filter(enrolment__person_id__in=by_person, status=BillStatus.UNPAID)
        .annotate(due=Case(When(_payable_on(run_date), then=True), default=False))
        .values_list("enrolment__person_id", "notice_number", "amount", "payable_until", "due")
        .order_by()
    )
    notices = defaultdict(lambda: {"amount": ZERO, "due": False, "expired": False})
    for person_id, notice_number, amount, payable_until, due in rows.iterator(chunk_size=PAGE_SIZE):
        notice = notices[person_id, notice_number]
        notice["amount"] += amount
        notice["due"] |= bool(due)
        notice["expired"] |= payable_until is not None and payable_until < run_date
    chosen = defaultdict(list)
    for (person_id, notice_number), notice in notices.items():
        if notice["due"] and not notice["expired"]:
            chosen[person_id].append((notice_number, notice["amount"]))
    return {
        by_person[person_id].pk: Planned(
            mandate=by_person[person_id],
            notice_numbers=sorted(number for number, _ in picked),
            amount=sum((amount for _, amount in picked), ZERO),
        )
        for person_id, picked in chosen.items()
    }


def _resolve_superseded(plans, *, run_date):
    """
    Settle or fail the page's batch payments left pending by an interrupted run for other bills or another
    day: they would hold the bills (`start_payment` refuses bills in a pending batch payment).
    A pending payment with this run's key is left to `_debit`, which completes it.
    """
    wanted = {plan.mandate.person_id: plan.idempotency_key(run_date) for plan in plans.values()}
    pending = Payment.objects.filter(
        person_id__in=wanted, status=PaymentStatus.PENDING, channel=PaymentChannel.BATCH_DEBIT
    )
    for payment in pending:
        if payment.idempotency_key != wanted[payment.person_id]:
            _resolve(payment)


def _resolve_orphans():
    """After a run, no batch payment should be pending: any left was interrupted, the bank says how."""
    orphans = Payment.objects.filter(status=PaymentStatus.PENDING, channel=PaymentChannel.BATCH_DEBIT)
    for payment in orphans.iterator(chunk_size=PAGE_SIZE):
        _resolve(payment)


def _resolve(payment):
    result = get_bank().query_debit(payment.order_number)
    logger.warning(
        "batch payment %s left pending by an interrupted run: bank says %s",
        payment.order_number,
        result.status,
    )
    if result.succeeded:
        settle_payment(order_number=payment.order_number, amount=payment.amount, reference=result.reference)
    else:
        fail_payment(order_number=payment.order_number, reason=f"批量扣款中断：{result.message}")


def _debit(run, plan):
    """Debit one mandate once for the day; record the attempt and tell the payer by SMS."""
    mandate = plan.mandate
    try:
        payment = start_payment(
            person=mandate.person,
            notice_numbers=plan.notice_numbers,
            method=PaymentMethod.MANDATE,
            channel=PaymentChannel.BATCH_DEBIT,
            idempotency_key=plan.idempotency_key(run.run_date),
        )
    except PaymentError as error:
        # The bills changed since the page was read (paid at a counter, cancelled, a new import).
        logger.info("batch debit %s: mandate %s not debited: %s", run.run_date, mandate.pk, error)
        return None
    try:
        # Debits with the order number as the bank reference; a payment already decided is returned as is.
        payment = collect_by_mandate(payment)
    except PaymentError:
        payment.refresh_from_db()
    result, message = _result_of(payment)
    with transaction.atomic():
        attempt, created = DebitAttempt.objects.get_or_create(
            run=run,
            mandate=mandate,
            defaults={
                "payment": payment,
                "result": result,
                "bank_message": message[:200],
                "amount": payment.amount,
            },
        )
        if created:
            _notify(mandate.person, attempt, payment)
    return attempt


def _result_of(payment):
    if payment.status == PaymentStatus.SUCCEEDED:
        return DebitResult.SUCCEEDED, DebitStatus.SUCCEEDED.label
    if payment.status == PaymentStatus.REFUND_DUE:
        return DebitResult.FAILED, "应缴信息已由其他渠道缴纳，扣款待退还"
    bank = get_bank().query_debit(payment.order_number)
    result = (
        DebitResult.INSUFFICIENT_FUNDS
        if bank.status == DebitStatus.INSUFFICIENT_FUNDS
        else DebitResult.FAILED
    )
    return result, payment.failure_reason or bank.message


def _notify(person, attempt, payment):
    if not person.phone:
        return
    amount = f"{attempt.amount:.2f}"
    if attempt.result == DebitResult.SUCCEEDED:
        day = timezone.localdate(payment.paid_at)
        body = SMS_SUCCEEDED.format(amount=amount, day=f"{day.year}年{day.month}月{day.day}日")
    elif attempt.result == DebitResult.INSUFFICIENT_FUNDS:
        body = SMS_INSUFFICIENT.format(amount=amount)
    else:
        return  # other refusals (account frozen, closed) are for staff to follow up, in admin
    send_sms(phone=person.phone, body=body, purpose="batch_debit")


def _record_counts(run, *, status=None):
    """Refresh the run's counts from its attempts (so a resumed run counts the first part too)."""
    totals = run.attempts.aggregate(
        mandates_seen=Count("pk"),
        succeeded=Count("pk", filter=Q(result=DebitResult.SUCCEEDED)),
        insufficient_funds=Count("pk", filter=Q(result=DebitResult.INSUFFICIENT_FUNDS)),
        failed=Count("pk", filter=Q(result=DebitResult.FAILED)),
        amount_collected=Sum("amount", filter=Q(result=DebitResult.SUCCEEDED), default=ZERO),
    )
    runs = DebitRun.objects.filter(pk=run.pk)
    if status:
        totals.update(status=status, finished_at=timezone.now())
        runs = runs.filter(status=DebitRunStatus.RUNNING)
    runs.update(**totals)


def _summary(run, outcome):
    return BatchSummary(
        run.run_date,
        outcome,
        mandates=run.mandates_seen,
        succeeded=run.succeeded,
        insufficient_funds=run.insufficient_funds,
        failed=run.failed,
        amount=run.amount_collected,
    )
