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
- the work is done per page of mandates, not per mandate: one query finds the page's bills, one
  transaction locks them and creates the page's payments (committed before the bank is called, so every
  bank reference is on record whatever happens next), one batch call to the bank debits the page (a
  批量代扣文件: `debit_many`), and one transaction settles the paid bills, fails the refused payments,
  records the attempts and queues the SMS, each with one statement per table. On PostgreSQL, WORKERS
  threads debit pages at once, each on its own connection, over disjoint shares of the mandates. A mandate that does not fit
  the bulk path (a payment for the day already exists — a resumed run —, its bills changed since the
  page was read, or are in another pending payment) goes through the per-mandate path
  (`start_payment`, `collect_by_mandate`), which refuses or completes it exactly as before.
"""

import datetime
import enum
import hashlib
import logging
import secrets
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache

from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Case, Count, Exists, F, Max, Min, OuterRef, Q, Sum, Value, When
from django.utils import timezone

from contributions import calendar
from contributions.models import (
    Bill,
    BillKind,
    BillStatus,
    PaidRecord,
    Payment,
    PaymentChannel,
    PaymentLine,
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
from mandates.adapters.bank import DebitRequest, DebitStatus, debit_many, get_bank
from mandates.models import DebitAttempt, DebitResult, DebitRun, DebitRunStatus, Mandate, MandateStatus
from payers.adapters.sms import send_sms, send_sms_many
from payers.models import Person
from portal.bulk import insert_rows, pk_in, text_in

logger = logging.getLogger(__name__)

PAGE_SIZE = 2000
WORKERS = 2  # threads debiting pages at once on PostgreSQL, each on its own connection (see _debit_all)
COUNTS_EVERY_PAGES = 10  # pages between refreshes of the run's counts while it runs (and at the end)
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
class PlannedBill:
    pk: int
    amount: Decimal
    enrolment_id: int
    tax_authority_id: int
    period_start: datetime.date
    period_end: datetime.date


@dataclass(frozen=True)
class Planned:
    """What a mandate's account is to be debited for on the run's day."""

    mandate: Mandate
    run_date: datetime.date
    notice_numbers: list
    amount: Decimal
    bills: tuple = ()  # PlannedBill: every unpaid bill of the notices, as read with the page

    @cached_property
    def idempotency_key(self):
        digest = hashlib.sha256(",".join(self.notice_numbers).encode()).hexdigest()[:16]
        return f"batch:{self.run_date:%Y-%m-%d}:{self.mandate.pk}:{digest}"


def run_batch_debit(*, run_date=None, dry_run=False, resume=False, progress=None):
    """
    Debit every active mandate whose payer has payable daily bills on `run_date` (default: today).

    Does nothing on a day that is not a deduction day, or when the day's run has finished. Refuses
    while a run is in progress, and after a failed or interrupted one unless `resume` (which finishes
    it, skipping the mandates already attempted). `dry_run` writes nothing and calls no bank: it says
    how many accounts would be debited for how much. `progress(done, total)` is called per mandate (from the
    workers' threads, one call at a time).
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
    """
    Debit every candidate. On PostgreSQL the windows of mandate keys (see `_pages`) are dealt out in turn
    to WORKERS threads, each paging through its share on its own connection: while one waits for
    PostgreSQL (most of a page's time), another's Python runs. The shares are disjoint — one active
    mandate per person, so no bill, payment or bank account is in two shares — and each page is handled
    exactly as with one worker. Should a worker fail, the others stop after their current page and the
    error is raised (the run is then resumed as after any crash).
    """
    candidates = _candidates(run.run_date)
    span = _Span.of(candidates)
    tally = _Tally(run, total=span.total, progress=progress)
    if not _concurrent():
        _debit_share(run, _pages(candidates, span), tally=tally)
        return
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="batch-debit") as pool:
        shares = [
            pool.submit(
                _debit_share_on_own_connection,
                run,
                _pages(candidates, span, share=share, shares=WORKERS),
                tally=tally,
                stop=stop,
            )
            for share in range(WORKERS)
        ]
        try:
            for share in as_completed(shares):
                share.result()
        finally:
            stop.set()


def _concurrent():
    """
    Whether to use WORKERS threads: not on SQLite (one writer at a time), nor inside a caller's
    transaction, whose uncommitted rows the workers' own connections would not see.
    """
    return WORKERS > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block


def _debit_share_on_own_connection(run, pages, *, tally, stop):
    try:
        _debit_share(run, pages, tally=tally, stop=stop)
    finally:
        connections.close_all()  # this thread's connection


def _debit_share(run, pages, *, tally, stop=None):
    for page in pages:
        if stop and stop.is_set():
            return
        _debit_mandates(run, page)
        tally.page_done(page)


def _debit_mandates(run, page):
    """Debit a page's mandates, but those already attempted by this run (when it is resumed)."""
    attempted = set(
        DebitAttempt.objects.filter(
            run=run, mandate_id__in=pk_in(mandate.pk for mandate in page)
        ).values_list("mandate_id", flat=True)
    )
    plans = _plan(page, run_date=run.run_date)
    _resolve_superseded(plans)
    _debit_page(run, [plans[m.pk] for m in page if m.pk in plans and m.pk not in attempted])


class _Tally:
    """
    The mandates done, told to `progress(done, total)` one by one, and the run's counts refreshed every
    COUNTS_EVERY_PAGES pages; shared by the workers.
    """

    def __init__(self, run, *, total, progress):
        self.run, self.total, self.progress = run, total, progress
        self.done = self.pages = 0
        self.lock = threading.Lock()

    def page_done(self, page):
        with self.lock:
            self.pages += 1
            for _ in page:
                self.done += 1
                if self.progress:
                    self.progress(self.done, self.total)
            if self.pages % COUNTS_EVERY_PAGES == 0:
                # Counting the run's attempts costs more as they grow: every few pages, not every page.
                _record_counts(self.run)


def _dry_run(run_date, *, resume, progress):
    run = DebitRun.objects.filter(run_date=run_date).first()
    refusal = _refusal(run_date, run, resume=resume)
    if refusal:
        return refusal
    candidates = _candidates(run_date)
    span = _Span.of(candidates)
    total, done, count, amount = span.total, 0, 0, ZERO
    for page in _pages(candidates, span):
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


@dataclass(frozen=True)
class _Span:
    """How many candidates there are, and the first and last of their primary keys (None when none)."""

    total: int
    first: int | None
    last: int | None

    @classmethod
    def of(cls, candidates):
        return cls(**candidates.aggregate(total=Count("pk"), first=Min("pk"), last=Max("pk")))


def _pages(candidates, span, *, share=0, shares=1):
    """
    The candidates in windows of PAGE_SIZE consecutive primary keys, from `span.first` to `span.last`:
    memory stays bounded whatever the volume. With `shares`, this share takes every shares-th window,
    from its share-th. Only the fields a debit needs are read (thousands of model instances a second:
    each loaded field counts).

    Windows of keys, not "the next PAGE_SIZE candidates": PostgreSQL cannot tell how few of the mandates
    after a key have payable bills, so that query tested every remaining mandate before sorting them: a
    page cost more the more mandates were left, and a million bills took 296 s against about 205 s in
    windows (bench/batch_debit.py, same machine, same day). A window's query reads its own mandates only.
    """
    if span.total == 0:
        return
    for start in range(span.first + share * PAGE_SIZE, span.last + 1, shares * PAGE_SIZE):
        window = candidates.filter(pk__gte=start, pk__lt=start + PAGE_SIZE)
        page = list(window.only("person", "bank", "account_number").order_by("pk"))
        if page:
            _add_payers(page)
            yield page


def _add_payers(page):
    """
    Each mandate's payer (with the phone only, for the SMS), from one query by primary key. Not a join in
    the page's query: with one, PostgreSQL may choose to read the whole people table for every page.
    """
    people = Person.objects.filter(pk__in=pk_in(mandate.person_id for mandate in page)).only("phone")
    by_pk = {person.pk: person for person in people}
    for mandate in page:
        mandate.person = by_pk[mandate.person_id]


def _plan(page, *, run_date):
    """
    The notices to debit for each mandate of a page, from one query of the page's unpaid bills.

    A notice is debited whole (SPEC rule 3): when one of its bills is a daily bill payable on the day
    under a valid enrolment (the mandate takes effect only while the enrolment is valid, SPEC rule 8),
    and none of its bills is past its deadline.
    """
    by_person = {mandate.person_id: mandate for mandate in page}
    rows = (
        Bill.objects.filter(enrolment__person_id__in=pk_in(by_person), status=BillStatus.UNPAID)
        .annotate(due=Case(When(_payable_on(run_date), then=True), default=False))
        .values_list(
            "enrolment__person_id",
            "notice_number",
            "amount",
            "payable_until",
            "due",
            "pk",
            "enrolment_id",
            "tax_office__authority_id",
            "period_start",
            "period_end",
        )
        .order_by("pk")
    )
    notices = defaultdict(lambda: {"amount": ZERO, "due": False, "expired": False, "bills": []})
    for person_id, notice_number, amount, payable_until, due, *bill in rows:  # a page's bills: a few thousand
        notice = notices[person_id, notice_number]
        notice["amount"] += amount
        notice["due"] |= bool(due)
        notice["expired"] |= payable_until is not None and payable_until < run_date
        notice["bills"].append(PlannedBill(bill[0], amount, *bill[1:]))
    chosen = defaultdict(list)
    for (person_id, notice_number), notice in notices.items():
        if notice["due"] and not notice["expired"]:
            chosen[person_id].append((notice_number, notice["amount"], notice["bills"]))
    return {
        by_person[person_id].pk: Planned(
            mandate=by_person[person_id],
            run_date=run_date,
            notice_numbers=sorted(number for number, _, _ in picked),
            amount=sum((amount for _, amount, _ in picked), ZERO),
            bills=tuple(bill for _, _, bills in picked for bill in bills),
        )
        for person_id, picked in chosen.items()
    }


def _resolve_superseded(plans):
    """
    Settle or fail the page's batch payments left pending by an interrupted run for other bills or another
    day: they would hold the bills (`start_payment` refuses bills in a pending batch payment).
    A pending payment with this run's key is left to `_debit`, which completes it.
    """
    wanted = {plan.mandate.person_id: plan.idempotency_key for plan in plans.values()}
    pending = Payment.objects.filter(
        person_id__in=pk_in(wanted), status=PaymentStatus.PENDING, channel=PaymentChannel.BATCH_DEBIT
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


class _SettleOneByOne(Exception):
    pass


@dataclass(frozen=True)
class _Started:
    """A payment the bulk path created for a plan: what the bank call and the settlement need of it."""

    plan: Planned
    payment_id: int
    order_number: str
    amount: Decimal
    line_ids: tuple  # the payment lines' primary keys, one per bill of the plan, in the same order


def _debit_page(run, plans):
    """
    Debit a page's mandates in bulk (see the module's docstring); the mandates the bulk path does not
    take go through `_debit`, one by one.
    """
    if not plans:
        return
    started, one_by_one = _start_page(run, plans)
    for plan in one_by_one:
        _debit(run, plan)
    if not started:
        return
    requests = [
        DebitRequest(
            bank=item.plan.mandate.bank,
            account_number=item.plan.mandate.account_number,
            amount=item.amount,
            reference=item.order_number,
        )
        for item in started
    ]
    results = debit_many(get_bank(), requests)
    if len(results) != len(requests):
        raise RuntimeError(f"the bank answered {len(results)} of {len(requests)} debits")
    _finish_page(run, started, results)


def _start_page(run, plans):
    """
    Create the page's pending payments in one transaction, under a lock of their bills, as `start_payment`
    would for each. Returns ([_Started], [plans left to the per-mandate path]).
    """
    today = timezone.localdate()
    keyed = {plan.idempotency_key: plan for plan in plans}
    existing = set(
        Payment.objects.filter(idempotency_key__in=text_in(keyed)).values_list("idempotency_key", flat=True)
    )
    one_by_one = [plan for key, plan in keyed.items() if key in existing]
    fresh = {key: plan for key, plan in keyed.items() if key not in existing}
    if not fresh:
        return [], one_by_one
    wanted = {(plan.mandate.person_id, number) for plan in fresh.values() for number in plan.notice_numbers}
    with transaction.atomic():
        found = defaultdict(dict)  # person -> {bill pk: payable}
        for pk, person_id, notice_number, status, payable_until in (
            Bill.objects.select_for_update(of=("self",))
            .filter(
                enrolment__person_id__in=pk_in({person_id for person_id, _ in wanted}),
                notice_number__in=text_in({number for _, number in wanted}),
            )
            .values_list("pk", "enrolment__person_id", "notice_number", "status", "payable_until")
            .order_by("pk")
        ):
            if (person_id, notice_number) in wanted:
                found[person_id][pk] = status == BillStatus.UNPAID and (
                    payable_until is None or payable_until >= today
                )
        held = set(
            PaymentLine.objects.filter(
                bill_id__in=pk_in(pk for bills in found.values() for pk in bills),
                payment__status=PaymentStatus.PENDING,
            ).values_list("bill_id", flat=True)
        )
        ready = {}
        order_numbers = _order_numbers()
        for key, plan in fresh.items():
            bills = found.get(plan.mandate.person_id, {})
            planned = {bill.pk for bill in plan.bills}
            if set(bills) == planned and all(bills.values()) and not planned & held:
                ready[key] = (plan, next(order_numbers))
            else:
                one_by_one.append(plan)  # start_payment says why, or closes the other pending payment
        payment_ids = insert_rows(
            Payment,
            ["order_number", "person_id", "method", "channel", "amount", "idempotency_key"],
            (
                (
                    number,
                    plan.mandate.person_id,
                    PaymentMethod.MANDATE,
                    PaymentChannel.BATCH_DEBIT,
                    plan.amount,
                    key,
                )
                for key, (plan, number) in ready.items()
            ),
            return_pks=True,
        )
        line_ids = iter(
            insert_rows(
                PaymentLine,
                ["payment_id", "bill_id", "amount"],
                (
                    (payment_id, bill.pk, bill.amount)
                    for payment_id, (plan, _) in zip(payment_ids, ready.values(), strict=True)
                    for bill in plan.bills
                ),
                return_pks=True,
            )
        )
    return [
        _Started(plan, payment_id, number, plan.amount, tuple(next(line_ids) for _ in plan.bills))
        for payment_id, (plan, number) in zip(payment_ids, ready.values(), strict=True)
    ], one_by_one


def _order_numbers():
    """
    Order numbers like `new_order_number`'s, with 16 random digits: thousands of orders a second never
    collide. The time in them is read once for a page.
    """
    now = f"{timezone.localtime():%Y%m%d%H%M%S}"
    while True:
        yield f"SB{now}{secrets.randbelow(10**16):016d}"


def _finish_page(run, started, results):
    """The bank's answers for a page, in one transaction: settle, fail, record the attempts, queue the SMS."""
    now = timezone.now()
    answered = list(zip(started, results, strict=True))
    attempts = []  # (started, result, message, paid_at)
    with transaction.atomic():
        attempts += _settle_page([(item, result) for item, result in answered if result.succeeded], now)
        by_reason = defaultdict(list)
        for item, result in answered:
            if result.succeeded:
                continue
            by_reason[result.message[:200]].append(item.payment_id)
            outcome = (
                DebitResult.INSUFFICIENT_FUNDS
                if result.status == DebitStatus.INSUFFICIENT_FUNDS
                else DebitResult.FAILED
            )
            attempts.append((item, outcome, result.message, None))
        for reason, pks in by_reason.items():
            Payment.objects.filter(pk__in=pk_in(pks), status=PaymentStatus.PENDING).update(
                status=PaymentStatus.FAILED, failure_reason=reason
            )
        insert_rows(
            DebitAttempt,
            ["run_id", "mandate_id", "payment_id", "result", "bank_message", "amount", "attempted_at"],
            (
                (run.pk, item.plan.mandate.pk, item.payment_id, outcome, message[:200], item.amount, now)
                for item, outcome, message, _ in attempts
            ),
        )
        send_sms_many(
            message
            for item, outcome, _, paid_at in attempts
            if (message := _sms_for(item.plan.mandate.person, outcome, item.amount, paid_at))
        )


def _settle_page(paid, now):
    """
    Settle the debited payments as `settle_payment` would, one statement per table; returns (started,
    result, message, paid_at) for each. Should a bill have been paid meanwhile, each payment is settled on
    its own instead (which marks a payment that lost the race 重复支付待退款).
    """
    if not paid:
        return []
    pks = [item.payment_id for item, _ in paid]
    try:
        with transaction.atomic():
            bill_ids = [bill.pk for item, _ in paid for bill in item.plan.bills]
            taken = Bill.objects.filter(pk__in=pk_in(bill_ids), status=BillStatus.UNPAID).update(
                status=BillStatus.PAID
            )
            if taken != len(bill_ids):
                raise _SettleOneByOne
            day = timezone.localtime(now)
            insert_rows(
                PaidRecord,
                [
                    "voucher_number",
                    "enrolment_id",
                    "bill_id",
                    "payment_id",
                    "tax_authority_id",
                    "period_start",
                    "period_end",
                    "paid_at",
                    "amount",
                ],  # fmt: skip
                (
                    (
                        f"{day:%Y%m%d}{line_id:012d}",
                        bill.enrolment_id,
                        bill.pk,
                        item.payment_id,
                        bill.tax_authority_id,
                        bill.period_start,
                        bill.period_end,
                        now,
                        bill.amount,
                    )
                    for item, _ in paid
                    for line_id, bill in zip(item.line_ids, item.plan.bills, strict=True)
                ),
            )
            pending = Payment.objects.filter(pk__in=pk_in(pks), status=PaymentStatus.PENDING)
            if all(result.reference == item.order_number for item, result in paid):
                reference = F("order_number")  # what the sandbox, like most banks, echoes back
            else:
                reference = Case(
                    *(When(pk=item.payment_id, then=Value(result.reference)) for item, result in paid)
                )
            count = pending.update(status=PaymentStatus.SUCCEEDED, paid_at=now, gateway_reference=reference)
            if count != len(pks):
                raise _SettleOneByOne
    except (_SettleOneByOne, IntegrityError):
        logger.warning("batch debit: bills of a page changed while it was debited; settling one by one")
        settled = []
        for item, result in paid:
            payment = settle_payment(
                order_number=item.order_number, amount=item.amount, reference=result.reference, paid_at=now
            )
            outcome, message = _result_of(payment)
            settled.append((item, outcome, message, payment.paid_at))
        return settled
    return [(item, DebitResult.SUCCEEDED, DebitStatus.SUCCEEDED.label, now) for item, _ in paid]


def _debit(run, plan):
    """Debit one mandate once for the day; record the attempt and tell the payer by SMS."""
    mandate = plan.mandate
    try:
        payment = start_payment(
            person=mandate.person,
            notice_numbers=plan.notice_numbers,
            method=PaymentMethod.MANDATE,
            channel=PaymentChannel.BATCH_DEBIT,
            idempotency_key=plan.idempotency_key,
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
    message = _sms_for(person, attempt.result, attempt.amount, payment.paid_at)
    if message:
        phone, body, purpose = message
        send_sms(phone=phone, body=body, purpose=purpose)


def _sms_for(person, result, amount, paid_at):
    """(phone, body, purpose) of the SMS telling the payer the result, or None."""
    if not person.phone:
        return None
    amount = f"{amount:.2f}"
    if result == DebitResult.SUCCEEDED:
        body = SMS_SUCCEEDED.format(amount=amount, day=_day_in_words(paid_at))
    elif result == DebitResult.INSUFFICIENT_FUNDS:
        body = SMS_INSUFFICIENT.format(amount=amount)
    else:
        return None  # other refusals (account frozen, closed) are for staff to follow up, in admin
    return person.phone, body, "batch_debit"


@lru_cache(maxsize=16)
def _day_in_words(paid_at):
    """The day of `paid_at` in Shanghai as an SMS says it; computed once for a page (one `paid_at`)."""
    day = timezone.localdate(paid_at, timezone.get_default_timezone())
    return f"{day.year}年{day.month}月{day.day}日"


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
