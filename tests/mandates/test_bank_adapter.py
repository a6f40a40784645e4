"""The bank the portal talks to for mandates and debits, through its adapter, against the bank sandbox."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from stdnum import luhn

from bank_sandbox.demo import create_demo_accounts
from bank_sandbox.models import SandboxAccount, SandboxDebit
from mandates.adapters.bank import (
    BANKS,
    DebitStatus,
    SandboxBank,
    get_bank,
    validate_account_number,
)
from portal import demo

NUMBER = "6222021001150017009"
OWNER = {
    "holder_name": "张灵活",
    "id_type": "201",
    "id_number": "310115199003150017",
    "reserved_phone": "13800000001",
}


@pytest.fixture
def account(db):
    return SandboxAccount.objects.create(
        bank="ICBC",
        account_number=NUMBER,
        holder_name=OWNER["holder_name"],
        holder_id_type=OWNER["id_type"],
        holder_id_number=OWNER["id_number"],
        reserved_phone=OWNER["reserved_phone"],
        balance=Decimal("100.00"),
    )


@pytest.fixture
def bank(settings):
    settings.BANK = {"BACKEND": "mandates.adapters.bank.SandboxBank"}
    return get_bank()


def balance(account):
    account.refresh_from_db()
    return account.balance


def debit(bank, amount, reference, number=NUMBER):
    return bank.debit(bank="ICBC", account_number=number, amount=Decimal(amount), reference=reference)


# Verification (账户信息校验) before a mandate is signed


def test_verification_accepts_the_payers_own_class_i_account(bank, account):
    check = bank.verify_account(bank="ICBC", account_number=NUMBER, **OWNER)

    assert check.ok
    assert check.message == ""


@pytest.mark.parametrize(
    ("request_change", "account_change", "message"),
    [
        ({"account_number": "6222021001150017017"}, {}, "银行账号不存在，请核对开户银行和银行账号"),
        ({"bank": "CCB"}, {}, "银行账号不存在，请核对开户银行和银行账号"),
        ({"holder_name": "张灵"}, {}, "银行账户名与缴费人姓名不一致"),
        ({"id_number": "310104198506220028"}, {}, "该银行账户不属于缴费人本人"),
        ({"id_type": "516"}, {}, "该银行账户不属于缴费人本人"),
        ({"reserved_phone": "13800000009"}, {}, "银行预留手机号码不一致，请核对或至开户银行更新"),
        ({}, {"account_class": SandboxAccount.AccountClass.II}, "仅支持本人I类借记卡账户"),
        ({}, {"account_class": SandboxAccount.AccountClass.III}, "仅支持本人I类借记卡账户"),
        ({}, {"frozen": True}, "该账户状态异常，请联系开户银行"),
    ],
)
def test_verification_refuses_with_the_banks_message(bank, account, request_change, account_change, message):
    SandboxAccount.objects.filter(pk=account.pk).update(**account_change)

    check = bank.verify_account(**{"bank": "ICBC", "account_number": NUMBER, **OWNER, **request_change})

    assert not check.ok
    assert check.message == message


def test_verification_ignores_the_case_of_an_id_numbers_x(bank, account):
    SandboxAccount.objects.filter(pk=account.pk).update(holder_id_number="31011519900315001X")

    check = bank.verify_account(
        bank="ICBC", account_number=NUMBER, **{**OWNER, "id_number": "31011519900315001x"}
    )

    assert check.ok


# Debits


def test_a_debit_takes_exactly_the_amount(bank, account):
    results = [debit(bank, "33.33", f"D{n}") for n in range(3)]

    assert [result.status for result in results] == [DebitStatus.SUCCEEDED] * 3
    assert all(result.succeeded for result in results)
    assert balance(account) == Decimal("0.01")


def test_a_debit_may_take_the_whole_balance(bank, account):
    assert debit(bank, "100.00", "D1").succeeded
    assert balance(account) == Decimal("0.00")


def test_insufficient_funds_leave_the_balance_untouched(bank, account):
    result = debit(bank, "100.01", "D1")

    assert result.status == DebitStatus.INSUFFICIENT_FUNDS
    assert result.message == "账户余额不足"
    assert not result.succeeded
    assert balance(account) == Decimal("100.00")


def test_a_frozen_account_is_not_debited(bank, account):
    SandboxAccount.objects.filter(pk=account.pk).update(frozen=True)

    result = debit(bank, "1.00", "D1")

    assert result.status == DebitStatus.ACCOUNT_FROZEN
    assert result.message == "该账户状态异常，请联系开户银行"
    assert balance(account) == Decimal("100.00")


def test_a_debit_from_an_unknown_account_is_refused_and_not_recorded(bank, account):
    result = debit(bank, "1.00", "D1", number="6222021001150017017")

    assert result.status == DebitStatus.ACCOUNT_UNKNOWN
    assert result.message == "银行账号不存在，请核对开户银行和银行账号"
    assert not SandboxDebit.objects.exists()


def test_the_same_reference_twice_debits_once_and_returns_the_first_result(bank, account):
    first = debit(bank, "60.00", "D1")
    second = debit(bank, "60.00", "D1")

    assert first == second
    assert first.status == DebitStatus.SUCCEEDED and first.reference == "D1"
    assert balance(account) == Decimal("40.00")
    assert SandboxDebit.objects.filter(reference="D1").count() == 1


def test_a_refused_reference_stays_refused_after_a_top_up(bank, account):
    # A retry after topping up needs a new reference: the bank never processes a reference twice.
    assert debit(bank, "150.00", "D1").status == DebitStatus.INSUFFICIENT_FUNDS
    SandboxAccount.objects.filter(pk=account.pk).update(balance=Decimal("500.00"))

    assert debit(bank, "150.00", "D1").status == DebitStatus.INSUFFICIENT_FUNDS
    assert debit(bank, "150.00", "D2").succeeded
    assert balance(account) == Decimal("350.00")


@pytest.mark.parametrize("amount", ["0", "-1.00", "1.001"])
def test_a_debit_amount_is_positive_money(bank, account, amount):
    with pytest.raises(ValueError):
        debit(bank, amount, "D1")
    assert balance(account) == Decimal("100.00")


def test_query_debit_reports_what_the_bank_did(bank, account):
    debit(bank, "100.01", "D1")
    debit(bank, "12.50", "D2")

    assert bank.query_debit("D1").status == DebitStatus.INSUFFICIENT_FUNDS
    assert bank.query_debit("D2").status == DebitStatus.SUCCEEDED
    assert bank.query_debit("D3").status == DebitStatus.NOT_FOUND
    assert balance(account) == Decimal("87.50")


def run_at_once(*calls):
    """Run the calls in threads released together; returns their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=[index, call]) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_debits_never_overdraw(bank, account):
    results = run_at_once(lambda: debit(bank, "60.00", "D1"), lambda: debit(bank, "60.00", "D2"))

    assert sorted(result.status for result in results) == [
        DebitStatus.INSUFFICIENT_FUNDS,
        DebitStatus.SUCCEEDED,
    ]
    assert balance(account) == Decimal("40.00")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_same_debit_sent_twice_at_once_is_applied_once(bank, account):
    first, second = run_at_once(lambda: debit(bank, "60.00", "D1"), lambda: debit(bank, "60.00", "D1"))

    assert first == second and first.succeeded
    assert balance(account) == Decimal("40.00")
    assert SandboxDebit.objects.count() == 1


# The account number a payer types


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("6222 0210 0115 0017 009", "银行账号只能由数字组成"),
        ("62220210011500170O9", "银行账号只能由数字组成"),
        ("", "银行账号只能由数字组成"),
        ("622202100115007", "银行账号应为16至19位数字"),
        ("62220210011500170090", "银行账号应为16至19位数字"),
        ("6222021001150017008", "银行账号有误，请核对"),
    ],
)
def test_an_account_number_must_be_16_to_19_digits_passing_luhn(number, message):
    with pytest.raises(ValidationError) as error:
        validate_account_number(number)

    assert error.value.messages == [message]


@pytest.mark.parametrize("number", ["6222021001150017009", "6214830001500171", "6217000000004050047"])
def test_a_card_number_passes(number):
    validate_account_number(number)


# Choosing the bank


def test_the_sandbox_is_the_default_bank(settings):
    del settings.BANK

    assert isinstance(get_bank(), SandboxBank)


class RefusingBank(SandboxBank):
    def verify_account(self, **details):
        raise AssertionError("not this one")


def test_the_setting_chooses_the_bank(settings):
    settings.BANK = {"BACKEND": f"{__name__}.RefusingBank"}

    assert isinstance(get_bank(), RefusingBank)


def test_the_banks_serving_shanghai_have_distinct_codes():
    codes = [code for code, _ in BANKS]

    assert len(BANKS) == 16 and len(set(codes)) == 16
    assert ("ICBC", "工商银行") in BANKS and ("SRCB", "上海农商银行") in BANKS


# Demo accounts


def person(key):
    spec = next(p for p in demo.PEOPLE if p.key == key)
    return {
        "holder_name": spec.name,
        "id_type": "201",
        "id_number": spec.id_number,
        "reserved_phone": spec.phone,
    }


@pytest.mark.django_db
def test_demo_accounts_are_created_once_and_reset(bank):
    create_demo_accounts()
    SandboxAccount.objects.update(balance=0, frozen=True)

    accounts = create_demo_accounts()

    assert SandboxAccount.objects.count() == len(accounts) == 4
    assert {(a.bank, a.balance) for a in SandboxAccount.objects.filter(frozen=False)} == {
        ("ICBC", Decimal("50000.00")),
        ("CMB", Decimal("2000.00")),
        ("SRCB", Decimal("100.00")),
        ("CCB", Decimal("10000.00")),
    }
    for account in accounts:
        assert luhn.is_valid(account.account_number)
        assert account.bank in dict(BANKS)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "bank_code", "number", "message"),
    [
        ("flexible", "ICBC", "6222021001150017009", ""),
        ("flexible", "CMB", "6214830001500171", "仅支持本人I类借记卡账户"),
        ("resident", "SRCB", "6224780000006220020", ""),
        ("records", "CCB", "6217000000004050047", ""),
    ],
)
def test_demo_people_can_sign_with_their_class_i_account(bank, key, bank_code, number, message):
    create_demo_accounts()

    check = bank.verify_account(bank=bank_code, account_number=number, **person(key))

    assert check.ok == (not message)
    assert check.message == message


@pytest.mark.django_db
def test_the_residents_demo_account_cannot_pay_a_years_pension(bank):
    create_demo_accounts()

    result = bank.debit(
        bank="SRCB", account_number="6224780000006220020", amount=Decimal("1100.00"), reference="DEMO1"
    )

    assert result.status == DebitStatus.INSUFFICIENT_FUNDS
