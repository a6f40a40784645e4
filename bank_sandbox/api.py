"""
The simulated banks' server-to-server API, called in-process by the portal's adapter
(`mandates.adapters.bank.SandboxBank`) where a real bank would be called over its network interface:
verify an account before a mandate is signed (账户信息校验), debit an account, and query a debit.

Results carry a code and the message a bank would give, in Chinese.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F

from bank_sandbox.models import SandboxAccount, SandboxDebit

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


def query_debit(reference):
    record = SandboxDebit.objects.filter(reference=reference).first()
    if record is None:
        return DebitState(reference, DEBIT_NOT_FOUND, message=DEBIT_MESSAGES[DEBIT_NOT_FOUND])
    return _state(record)


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
