"""
Paying bills: one service for the portal, the tax hall and (later) the channels and batch debits.

Guarantees, each with a test:
- only whole 征集通知单号 are paid (SPEC rule 3);
- a bill is paid at most once: bills are locked while a payment settles, and the database allows one
  positive paid record per bill;
- settling is idempotent: a replayed notification, a double click or two tabs never pay twice; money
  that arrives for bills already paid marks the payment 重复支付待退款 instead;
- a failed or abandoned payment leaves its bills payable; a succeeded one is final;
- a 重复支付待退款 payment is refunded once, whole, the way the money came (`refund_payment`); a payment
  whose paid records settled bills is never refunded, and a refunded one is never settled again.
"""

import logging
import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from contributions.adapters.gateway import RefundResult, get_gateway
from contributions.models import (
    COUNTER_METHODS,
    Bill,
    BillStatus,
    PaidRecord,
    Payment,
    PaymentChannel,
    PaymentLine,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from payers.adapters.sms import send_sms

logger = logging.getLogger(__name__)

NOT_ENROLLED = "缴费人不属于灵活就业或城乡居民身份的参保人员，请确认参保身份再行办理。"
NOTHING_PAYABLE = "未查询到有效信息"
WHOLE_NOTICE = "同一征集通知单号的可缴信息必须一起缴费"
ALREADY_PAID = "所选应缴信息已缴费，请勿重复缴费。"
IN_BATCH_DEBIT = "所选应缴信息正在批量扣款中，请稍后再试。"
NOT_REFUNDABLE = "只有“重复支付待退款”的缴费订单可以退款；已缴费入账的订单不支持撤销。"
REFUND_BY_CHANNEL = "该笔款项由第三方缴费渠道收取，请通知该渠道原路退款。"
SMS_REFUNDED = (
    "【上海市电子税务局】您于{day}支付的社会保险费{amount}元（订单号{order_number}）因应缴信息已通过其他方式缴费，"
    "已原路退回，请注意查收。"
)
# A settlement leaves these alone: the money is on record already (to be refunded, or refunded).
SETTLED = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUND_DUE, PaymentStatus.REFUNDED)


class PaymentError(Exception):
    """A payment that cannot be made; the message is for the payer."""


class UnknownOrder(Exception):
    pass


class AmountMismatch(Exception):
    pass


class RefundError(Exception):
    """A refund that cannot be made; the message is for staff."""


class _BillsTaken(Exception):
    """Raised inside a settlement to roll it back when another payment got the bills first."""


def new_order_number():
    return f"SB{timezone.localtime():%Y%m%d%H%M%S}{secrets.randbelow(10**6):06d}"


def start_payment(
    *, person, notice_numbers, method, channel, paid_by=None, operator=None, idempotency_key=None, today=None
):
    """
    Create a pending payment for every unpaid bill of the person's `notice_numbers`.

    The same `idempotency_key` returns the same payment. Pending payments holding any of these bills are
    closed first (a card order at the gateway too); if one of them turns out paid, it is settled and this
    payment is refused. Bills in a pending batch debit (other than this one) are refused.
    """
    notice_numbers = sorted(set(notice_numbers))
    if not notice_numbers:
        raise PaymentError("请选择需要缴费的应缴信息。")
    if idempotency_key:
        existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if existing:
            if existing.person_id != person.pk or _notice_numbers(existing) != notice_numbers:
                raise PaymentError("重复提交的缴费请求与原请求不一致，请重新办理。")
            return existing
    today = today or timezone.localdate()
    _close_pending_payments(person=person, notice_numbers=notice_numbers, keep_key=idempotency_key)
    with transaction.atomic():
        # The bills only (`of=self`), in primary-key order: locking the joined enrolment too made two
        # payments for overlapping notices of one person deadlock on the enrolment row they share.
        bills = list(
            Bill.objects.select_for_update(of=("self",))
            .filter(enrolment__person=person, notice_number__in=notice_numbers)
            .order_by("pk")
        )
        _check_payable(bills, notice_numbers=notice_numbers, today=today)
        payment = Payment.objects.create(
            order_number=new_order_number(),
            person=person,
            paid_by=paid_by,
            operator=operator,
            method=method,
            channel=channel,
            amount=sum((bill.amount for bill in bills), Decimal("0.00")),
            idempotency_key=idempotency_key or None,
        )
        PaymentLine.objects.bulk_create(
            PaymentLine(payment=payment, bill=bill, amount=bill.amount) for bill in bills
        )
    return payment


def _notice_numbers(payment):
    return sorted(set(payment.lines.values_list("bill__notice_number", flat=True)))


def _check_payable(bills, *, notice_numbers, today):
    if {bill.notice_number for bill in bills} != set(notice_numbers):
        raise PaymentError("所选应缴信息不存在或不属于该缴费人。")
    if any(bill.status == BillStatus.PAID for bill in bills):
        raise PaymentError(ALREADY_PAID)
    if any(bill.status != BillStatus.UNPAID for bill in bills):
        raise PaymentError("所选应缴信息已作废，请重新查询。")
    if any(bill.payable_until and bill.payable_until < today for bill in bills):
        raise PaymentError("所选应缴信息已超过缴费期限，请至参保地社区事务受理服务中心申请补缴。")


def _close_pending_payments(*, person, notice_numbers, keep_key):
    pending = (
        Payment.objects.filter(
            person=person, status=PaymentStatus.PENDING, lines__bill__notice_number__in=notice_numbers
        )
        .exclude(idempotency_key=keep_key)
        .distinct()
    )
    # A batch debit's payment is between its start and the bank's answer: closing it would not stop the debit.
    if any(payment.channel == PaymentChannel.BATCH_DEBIT for payment in pending):
        raise PaymentError(IN_BATCH_DEBIT)
    for payment in pending:
        if payment.method == PaymentMethod.CARD:
            result = get_gateway().close_order(payment.order_number)
            if result.paid:
                settle_payment(
                    order_number=payment.order_number, amount=result.amount, reference=result.reference
                )
                continue
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.CLOSED, failure_reason="已被新的缴费请求取代"
        )


def settle_payment(*, order_number, amount, reference="", paid_at=None):
    """
    Record that the money of `order_number` was received: bills paid, paid records written. Idempotent.

    Raises UnknownOrder or AmountMismatch (nothing changes). Returns the payment.
    """
    paid_at = paid_at or timezone.now()
    try:
        with transaction.atomic():
            payment = Payment.objects.select_for_update().filter(order_number=order_number).first()
            if payment is None:
                raise UnknownOrder(order_number)
            if payment.status in SETTLED:
                return payment
            if Decimal(amount) != payment.amount:
                raise AmountMismatch(f"{order_number}: {amount} != {payment.amount}")
            _apply(payment, reference=reference, paid_at=paid_at)
            return payment
    except (_BillsTaken, IntegrityError):
        # Another payment settled these bills first: keep the money on record to be refunded.
        Payment.objects.filter(order_number=order_number).exclude(status__in=SETTLED).update(
            status=PaymentStatus.REFUND_DUE, gateway_reference=reference, paid_at=paid_at
        )
        logger.warning("payment %s received for bills already paid: refund due", order_number)
        return Payment.objects.get(order_number=order_number)


def _apply(payment, *, reference, paid_at):
    lines = list(payment.lines.select_related("bill__enrolment", "bill__tax_office"))
    bill_ids = [line.bill_id for line in lines]
    # Lock the bills in primary-key order, as start_payment does: an UPDATE alone locks them in the order
    # it finds them on disk, and two transactions taking overlapping bills in different orders deadlock
    # (found by tests/contributions/test_money_invariants.py). A concurrent settlement of other orders for
    # the same bills waits here, then finds them no longer unpaid.
    list(Bill.objects.select_for_update().filter(pk__in=bill_ids).order_by("pk").values_list("pk"))
    if Bill.objects.filter(pk__in=bill_ids, status=BillStatus.UNPAID).update(status=BillStatus.PAID) != len(
        bill_ids
    ):
        raise _BillsTaken
    day = timezone.localtime(paid_at)
    PaidRecord.objects.bulk_create(
        PaidRecord(
            voucher_number=f"{day:%Y%m%d}{line.pk:012d}",
            enrolment=line.bill.enrolment,
            bill=line.bill,
            payment=payment,
            tax_authority_id=line.bill.tax_office.authority_id,
            period_start=line.bill.period_start,
            period_end=line.bill.period_end,
            paid_at=paid_at,
            amount=line.amount,
        )
        for line in lines
    )
    payment.status = PaymentStatus.SUCCEEDED
    payment.paid_at = paid_at
    payment.gateway_reference = reference
    payment.save(update_fields=["status", "paid_at", "gateway_reference"])


def fail_payment(*, order_number, reason):
    """A pending payment that the gateway or bank refused: its bills stay payable."""
    Payment.objects.filter(order_number=order_number, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.FAILED, failure_reason=reason[:200]
    )


def refresh_from_gateway(payment):
    """Ask the gateway about a pending card order (no notification yet) and settle it if it was paid."""
    if payment.status != PaymentStatus.PENDING or payment.method != PaymentMethod.CARD:
        return payment
    result = get_gateway().query_order(payment.order_number)
    if result.paid:
        return settle_payment(
            order_number=payment.order_number, amount=result.amount, reference=result.reference
        )
    return payment


def collect_by_mandate(payment):
    """
    授权书支付: debit the payer's own mandate account now, with the order number as the bank reference
    (so a retried request is never debited twice). Insufficient funds → the payment fails, bills stay payable.
    """
    from mandates.adapters.bank import get_bank
    from mandates.services import active_mandate

    if payment.status != PaymentStatus.PENDING:
        return payment
    mandate = active_mandate(payment.person)
    if mandate is None:
        fail_payment(order_number=payment.order_number, reason="未签订有效的扣费授权书")
        raise PaymentError("缴费人未签订有效的社会保险费扣费授权书，请选择银联支付。")
    result = get_bank().debit(
        bank=mandate.bank,
        account_number=mandate.account_number,
        amount=payment.amount,
        reference=payment.order_number,
    )
    if result.succeeded:
        return settle_payment(
            order_number=payment.order_number, amount=payment.amount, reference=result.reference
        )
    fail_payment(order_number=payment.order_number, reason=result.message)
    raise PaymentError(f"授权书支付未成功：{result.message}。应缴信息仍可缴费，请充值后重试或选择银联支付。")


def pay_at_counter(*, person, notice_numbers, method, operator):
    """办税服务厅 offline payment (刷卡/支付宝/微信/现金): the same rules, settled at once."""
    if method not in {
        PaymentMethod.COUNTER_CARD,
        PaymentMethod.ALIPAY,
        PaymentMethod.WECHAT,
        PaymentMethod.CASH,
    }:
        raise PaymentError("柜台收款方式不正确。")
    payment = start_payment(
        person=person,
        notice_numbers=notice_numbers,
        method=method,
        channel=PaymentChannel.TAX_HALL,
        operator=operator,
    )
    return settle_payment(
        order_number=payment.order_number, amount=payment.amount, reference=f"柜台-{operator.pk}"
    )


def refund_payment(*, payment, operator):
    """
    退款: give the money of a 重复支付待退款 payment back the way it came — the card gateway, the mandate's
    bank, or the tax hall's counter — whole and once. The payment becomes 已退款 and the payer gets an SMS.

    Only a 重复支付待退款 payment is refunded: a payment whose paid records settled bills never is (that
    would unpay them; 支付后不支持撤销). The refund number is the gateway's idempotency key and there is one
    Refund per payment, so a double click, a retry after a crash or two staff at once move the money once,
    and never more than was paid. Returns the Refund; raises RefundError (nothing refunded).
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status == PaymentStatus.REFUNDED:
            return payment.refund
        if payment.status != PaymentStatus.REFUND_DUE or payment.paid_records.filter(amount__gt=0).exists():
            raise RefundError(NOT_REFUNDABLE)
        if payment.channel not in (
            PaymentChannel.PORTAL,
            PaymentChannel.TAX_HALL,
            PaymentChannel.BATCH_DEBIT,
        ):
            raise RefundError(REFUND_BY_CHANNEL)
        refund, _ = Refund.objects.get_or_create(
            payment=payment,
            defaults={
                "refund_number": f"RF{payment.order_number}",
                "amount": payment.amount,
                "operator": operator,
            },
        )
        if refund.status == RefundStatus.FAILED:  # staff try again: same number, so still at most once
            Refund.objects.filter(pk=refund.pk).update(status=RefundStatus.PENDING, operator=operator)
    # The gateway is called outside any transaction: a row lock is not held over a network call.
    result = _send_refund(payment, refund, operator=operator)
    with transaction.atomic():
        if result.ok:
            done = (
                Refund.objects.filter(pk=refund.pk)
                .exclude(status=RefundStatus.SUCCEEDED)
                .update(
                    status=RefundStatus.SUCCEEDED,
                    gateway_reference=result.reference[:64],
                    failure_reason="",
                    refunded_at=timezone.now(),
                )
            )
            Payment.objects.filter(pk=payment.pk, status=PaymentStatus.REFUND_DUE).update(
                status=PaymentStatus.REFUNDED
            )
            if done:
                _tell_payer_refunded(payment)
        else:
            Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
                status=RefundStatus.FAILED, failure_reason=result.message[:200]
            )
    if not result.ok:
        logger.warning("refund of %s refused: %s", payment.order_number, result.message)
        raise RefundError(f"退款未成功：{result.message}")
    refund.refresh_from_db()
    return refund


def _send_refund(payment, refund, *, operator):
    if payment.method == PaymentMethod.MANDATE:
        from mandates.adapters.bank import get_bank

        # The mandate debit's bank reference is the order number.
        return get_bank().refund(
            reference=payment.order_number, amount=refund.amount, refund_number=refund.refund_number
        )
    if payment.method in COUNTER_METHODS:
        # Taken at the tax hall: the counter gives it back (cash, or a reversal on the same terminal).
        return RefundResult(refund_number=refund.refund_number, ok=True, reference=f"柜台退款-{operator.pk}")
    return get_gateway().refund(
        order_number=payment.order_number, amount=refund.amount, refund_number=refund.refund_number
    )


def _tell_payer_refunded(payment):
    phone = payment.person.phone
    if not phone:
        return
    day = timezone.localdate(payment.paid_at or payment.created_at)
    body = SMS_REFUNDED.format(
        day=f"{day.year}年{day.month}月{day.day}日",
        amount=f"{payment.amount:.2f}",
        order_number=payment.order_number,
    )
    send_sms(phone=phone, body=body, purpose="refund")
