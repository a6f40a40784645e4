"""
The simulated banks' server-to-server API, called in-process by the portal's adapter
(`mandates.adapters.bank.SandboxBank`) where a real bank would be called over its network interface:
verify an account before a mandate is signed (账户信息校验), debit an account, query a debit, and refund
a debit.

Results carry a code and the message a bank would give, in Chinese.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, DecimalField, F, Sum, Value, When
from django.utils import timezone

from bank_sandbox.models import SandboxAccount, SandboxDebit, SandboxRefund
from portal.bulk import insert_rows, text_in

# Verification refusals, in the order the bank checks them.
ACCOUNT_UNKNOWN = "account_unknown"
NAME_MISMATCH = "name_mismatch"
ID_MISMATCH = "id_mismatch"
PHONE_MISMATCH = "phone_mismatch"
NOT_CLASS_I = "not_class_i"
ACCOUNT_FROZEN = "account_frozen"

MESSAGES = {
    ACCOUNT_UNKNOWN: "银行账号不存在，请核对开户银行和银行账号",
    NAME_MISMATCH: "银行账户名与缴费人姓名不一致",
    ID_MISMATCH: "该银行账户不属于缴费人本人",
    PHONE_MISMATCH: "银行预留手机号码不一致，请核对或至开户银行更新",
    NOT_CLASS_I: "仅支持本人I类借记卡账户",
    ACCOUNT_FROZEN: "该账户状态异常，请联系开户银行",
}

# Debit results besides SandboxDebit.Result: no such account (nothing recorded), no such debit (query).
DEBIT_ACCOUNT_UNKNOWN = ACCOUNT_UNKNOWN
DEBIT_NOT_FOUND = "not_found"
DEBIT_MESSAGES = {
    SandboxDebit.Result.SUCCEEDED: "扣款成功",
    SandboxDebit.Result.INSUFFICIENT_FUNDS: "账户余额不足",
    SandboxDebit.Result.ACCOUNT_FROZEN: MESSAGES[ACCOUNT_FROZEN],
    DEBIT_ACCOUNT_UNKNOWN: MESSAGES[ACCOUNT_UNKNOWN],
    DEBIT_NOT_FOUND: "无此扣款记录",
}


@dataclass(frozen=True)
class Verification:
    ok: bool
    code: str = ""
    message: str = ""


@dataclass(frozen=True)
class DebitState:
    reference: str
    result: str  # a SandboxDebit.Result value, "account_unknown" or "not_found"
    amount: Decimal | None = None
    message: str = ""
    processed_at: object = None


def verify_account(*, bank, account_number, holder_name, id_type, id_number, reserved_phone):
    """Check that the account exists and belongs to this person, with this phone, and may be debited."""
    account = SandboxAccount.objects.filter(bank=bank, account_number=account_number).first()
    if account is None:
        return _refusal(ACCOUNT_UNKNOWN)
    if account.holder_name != holder_name.strip():
        return _refusal(NAME_MISMATCH)
    if (account.holder_id_type, account.holder_id_number.upper()) != (id_type, id_number.strip().upper()):
        return _refusal(ID_MISMATCH)
    if account.reserved_phone != reserved_phone.strip():
        return _refusal(PHONE_MISMATCH)
    if account.account_class != SandboxAccount.AccountClass.I:
        return _refusal(NOT_CLASS_I)
    if account.frozen:
        return _refusal(ACCOUNT_FROZEN)
    return Verification(ok=True)


def debit(*, bank, account_number, amount, reference):
    """
    Debit `amount` from the account, once per `reference`.

    A reference already processed is not processed again: the first result is returned, whatever the
    request (so a retry after a refusal needs a new reference). The balance never goes below zero, even
    with simultaneous debits: the account row is locked and the update is conditional on the balance.
    """
    amount = _money(amount)
    with transaction.atomic():
        account = (
            SandboxAccount.objects.select_for_update()
            .filter(bank=bank, account_number=account_number)
            .first()
        )
        if account is None:
            return DebitState(reference, DEBIT_ACCOUNT_UNKNOWN, amount, DEBIT_MESSAGES[DEBIT_ACCOUNT_UNKNOWN])
        processed = SandboxDebit.objects.filter(reference=reference).first()
        if processed is not None:
            return _state(processed)
        try:
            with transaction.atomic():
                record = SandboxDebit.objects.create(
                    account=account, amount=amount, reference=reference, result=_apply(account, amount)
                )
        except IntegrityError:
            # The same reference processed meanwhile against another account (whose lock we don't hold).
            return _state(SandboxDebit.objects.get(reference=reference))
    return _state(record)


def debit_many(debits):
    """
    A batch file of debits (批量代扣文件): `debits` is a list of (bank, account_number, amount, reference);
    returns one DebitState per line, in order. Each line is applied as `debit` would apply it — once per
    reference (a reference already processed returns its first result), never below a zero balance — but
    the whole file in one transaction: the accounts are locked together, the debits written in one
    INSERT and the balances moved by one UPDATE that is itself conditional on each balance.
    """
    lines = [(bank, number, _money(amount), reference) for bank, number, amount, reference in debits]
    if not lines:
        return []
    try:
        with transaction.atomic():
            return _debit_file(lines)
    except IntegrityError:
        # A reference processed meanwhile by a single debit: the file is applied line by line instead.
        return [
            debit(bank=bank, account_number=number, amount=amount, reference=reference)
            for bank, number, amount, reference in lines
        ]


def _debit_file(lines):
    accounts, balances = {}, {}  # (bank, account number) -> (pk, frozen); pk -> balance
    for pk, bank, number, balance, frozen in (
        SandboxAccount.objects.select_for_update()
        # Both columns, so the (bank, account_number) unique index finds them (not a scan of all accounts).
        .filter(bank__in={line[0] for line in lines}, account_number__in=text_in({line[1] for line in lines}))
        .order_by("pk")
        .values_list("pk", "bank", "account_number", "balance", "frozen")
    ):
        accounts[bank, number] = pk, frozen
        balances[pk] = balance
    processed = {
        record.reference: record
        for record in SandboxDebit.objects.filter(reference__in=text_in(line[3] for line in lines))
    }
    taken, now = {}, timezone.now()
    new, states = [], []
    for bank, number, amount, reference in lines:
        if reference in processed:
            states.append(processed[reference])
            continue
        if (bank, number) not in accounts:
            states.append(
                DebitState(reference, DEBIT_ACCOUNT_UNKNOWN, amount, DEBIT_MESSAGES[DEBIT_ACCOUNT_UNKNOWN])
            )
            continue
        account_id, frozen = accounts[bank, number]
        if frozen:
            result = SandboxDebit.Result.ACCOUNT_FROZEN
        elif balances[account_id] >= amount:
            result = SandboxDebit.Result.SUCCEEDED
            balances[account_id] -= amount
            taken[account_id] = taken.get(account_id, Decimal("0.00")) + amount
        else:
            result = SandboxDebit.Result.INSUFFICIENT_FUNDS
        new.append((account_id, amount, reference, result, now))
        processed[reference] = DebitState(reference, result, amount, DEBIT_MESSAGES[result], now)
        states.append(processed[reference])
    insert_rows(SandboxDebit, ["account_id", "amount", "reference", "result", "created_at"], new)
    _take(taken)
    return [state if isinstance(state, DebitState) else _state(state) for state in states]


def _take(taken):
    """Debit each account by its total, all or nothing: a balance that would go negative fails the file."""
    if not taken:
        return
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(SandboxAccount._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS a SET balance = a.balance - v.taken "  # noqa: S608 (no user input)
                "FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, taken) "
                "WHERE a.id = v.id AND a.balance >= v.taken AND NOT a.frozen",
                [list(taken), list(taken.values())],
            )
            updated = cursor.rowcount
    else:  # the same single statement, as a CASE (fine for a page; arrays scale better on PostgreSQL)
        amount = Case(
            *(When(pk=pk, then=Value(amount)) for pk, amount in taken.items()),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        )
        updated = SandboxAccount.objects.filter(pk__in=list(taken), frozen=False, balance__gte=amount).update(
            balance=F("balance") - amount
        )
    if updated != len(taken):
        raise RuntimeError("batch debit file: an account changed under its lock")


def query_debit(reference):
    record = SandboxDebit.objects.filter(reference=reference).first()
    if record is None:
        return DebitState(reference, DEBIT_NOT_FOUND, message=DEBIT_MESSAGES[DEBIT_NOT_FOUND])
    return _state(record)


@dataclass(frozen=True)
class RefundState:
    refund_number: str
    ok: bool
    amount: Decimal | None = None
    message: str = ""


def refund(*, reference, refund_number, amount):
    """
    Give `amount` of the succeeded debit `reference` back to its account, once per `refund_number` (the
    same number again returns the first refund and moves no money); never more than was debited.
    """
    amount = _money(amount)
    with transaction.atomic():
        debit = SandboxDebit.objects.select_for_update().filter(reference=reference).first()
        if debit is None or debit.result != SandboxDebit.Result.SUCCEEDED:
            return RefundState(refund_number, False, message="原扣款不存在或未成功，不能退款")
        done = SandboxRefund.objects.filter(refund_number=refund_number).first()
        if done is not None:
            if (done.debit_id, done.amount) != (debit.pk, amount):
                return RefundState(refund_number, False, message="退款单号已使用")
            return RefundState(refund_number, True, done.amount, "退款成功")
        refunded = debit.refunds.aggregate(total=Sum("amount", default=Decimal("0.00")))["total"]
        if refunded + amount > debit.amount:
            return RefundState(refund_number, False, message="退款金额超过原扣款金额")
        SandboxRefund.objects.create(debit=debit, refund_number=refund_number, amount=amount)
        SandboxAccount.objects.filter(pk=debit.account_id).update(balance=F("balance") + amount)
    return RefundState(refund_number, True, amount, "退款成功")


def _apply(account, amount):
    """Take the money if the account is usable and holds enough; returns the result."""
    if account.frozen:
        return SandboxDebit.Result.ACCOUNT_FROZEN
    taken = SandboxAccount.objects.filter(pk=account.pk, frozen=False, balance__gte=amount).update(
        balance=F("balance") - amount
    )
    return SandboxDebit.Result.SUCCEEDED if taken else SandboxDebit.Result.INSUFFICIENT_FUNDS


def _money(amount):
    amount = Decimal(amount)
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"a debit amount is positive with at most two decimals, not {amount}")
    return amount


def _refusal(code):
    return Verification(ok=False, code=code, message=MESSAGES[code])


def _state(record):
    return DebitState(
        reference=record.reference,
        result=record.result,
        amount=record.amount,
        message=DEBIT_MESSAGES[record.result],
        processed_at=record.created_at,
    )
