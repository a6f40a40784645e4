"""
The bank the portal talks to for mandates (委托扣款协议) and debits, chosen by settings.BANK["BACKEND"].

`SandboxBank` speaks to the simulated banks shipped in `bank_sandbox/`; a real adapter (to the banks'
or the bureau's payment network) implements the same methods.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.module_loading import import_string
from stdnum import luhn

DEFAULT_BACKEND = "mandates.adapters.bank.SandboxBank"

# The banks that serve Shanghai for social-insurance debits, as (code, name) for a form's choices.
BANKS = [
    ("ICBC", "工商银行"),
    ("ABC", "农业银行"),
    ("BOC", "中国银行"),
    ("CCB", "建设银行"),
    ("BOCOM", "交通银行"),
    ("PSBC", "邮储银行"),
    ("BOSC", "上海银行"),
    ("SRCB", "上海农商银行"),
    ("SPDB", "浦发银行"),
    ("CMB", "招商银行"),
    ("CITIC", "中信银行"),
    ("CEB", "光大银行"),
    ("CMBC", "民生银行"),
    ("CIB", "兴业银行"),
    ("PAB", "平安银行"),
    ("HXB", "华夏银行"),
]


def bank_name(code):
    return dict(BANKS).get(code, code)


def validate_account_number(number):
    """A bank card number: 16 to 19 digits, the last one the Luhn check digit."""
    if not (number.isascii() and number.isdigit()):  # isdigit() alone accepts ², ６, ٣ …
        raise ValidationError("银行账号只能由数字组成", code="not_digits")
    if not 16 <= len(number) <= 19:
        raise ValidationError("银行账号应为16至19位数字", code="length")
    if not luhn.is_valid(number):
        raise ValidationError("银行账号有误，请核对", code="checksum")


class DebitStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "扣款成功"
    INSUFFICIENT_FUNDS = "insufficient_funds", "账户余额不足"
    ACCOUNT_FROZEN = "account_frozen", "账户状态异常"
    ACCOUNT_UNKNOWN = "account_unknown", "银行账号不存在"
    NOT_FOUND = "not_found", "无此扣款记录"


@dataclass(frozen=True)
class AccountCheck:
    ok: bool
    message: str = ""  # the bank's reason, in Chinese, when not ok: shown to the payer as is
    code: str = ""


@dataclass(frozen=True)
class DebitResult:
    status: DebitStatus
    message: str
    reference: str

    @property
    def succeeded(self):
        return self.status == DebitStatus.SUCCEEDED


@dataclass(frozen=True)
class RefundResult:
    refund_number: str
    ok: bool
    reference: str = ""  # the bank's reference of the refund
    message: str = ""


@dataclass(frozen=True)
class DebitRequest:
    """One line of a batch debit: `reference` is the merchant's, applied at most once by the bank."""

    bank: str
    account_number: str
    amount: object  # Decimal
    reference: str

    def __repr__(self):  # the account number stays out of logs and tracebacks
        from portal.masking import mask_account_number

        return f"DebitRequest({self.bank}, {mask_account_number(self.account_number)}, {self.amount}, {self.reference})"


def debit_many(bank, debits):
    """`bank.debit_many(debits)`, or one `debit` per request for an adapter without a batch interface."""
    if hasattr(bank, "debit_many"):
        return bank.debit_many(debits)
    return [
        bank.debit(bank=d.bank, account_number=d.account_number, amount=d.amount, reference=d.reference)
        for d in debits
    ]


class SandboxBank:
    # bank_sandbox is imported when used, not with this module, so BANKS and the validator work
    # (in forms, in tests) whether or not the sandbox app is installed.

    def verify_account(self, *, bank, account_number, holder_name, id_type, id_number, reserved_phone):
        """Ask the bank whether the account is the payer's own class I account with this reserved phone."""
        from bank_sandbox import api

        result = api.verify_account(
            bank=bank,
            account_number=account_number,
            holder_name=holder_name,
            id_type=id_type,
            id_number=id_number,
            reserved_phone=reserved_phone,
        )
        return AccountCheck(ok=result.ok, message=result.message, code=result.code)

    def debit(self, *, bank, account_number, amount, reference):
        """Debit once per reference: asking again with the same reference returns the first result."""
        from bank_sandbox import api

        return self._result(
            api.debit(bank=bank, account_number=account_number, amount=amount, reference=reference)
        )

    def debit_many(self, debits):
        """
        A batch of debits in one call (the banks' 批量代扣文件): `debits` is a list of DebitRequest; returns
        one DebitResult per request, in order, each as `debit` would have returned it (once per reference).
        """
        from bank_sandbox import api

        states = api.debit_many([(d.bank, d.account_number, d.amount, d.reference) for d in debits])
        return [self._result(state) for state in states]

    def query_debit(self, reference):
        from bank_sandbox import api

        return self._result(api.query_debit(reference))

    def refund(self, *, reference, amount, refund_number):
        """Give a debit's money back to its account, once per `refund_number`; never more than debited."""
        from bank_sandbox import api

        state = api.refund(reference=reference, refund_number=refund_number, amount=amount)
        return RefundResult(
            refund_number=refund_number,
            ok=state.ok,
            reference=refund_number if state.ok else "",
            message=state.message,
        )

    @staticmethod
    def _result(state):
        return DebitResult(status=DebitStatus(state.result), message=state.message, reference=state.reference)


def get_bank():
    backend = getattr(settings, "BANK", {}).get("BACKEND", DEFAULT_BACKEND)
    return import_string(backend)()
