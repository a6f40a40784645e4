import itertools
from datetime import date, datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from contributions import tasks
from contributions.models import (
    Agency,
    Enrolment,
    LevyCategory,
    PaidRecord,
    PayerType,
    TaxAuthority,
    TaxOffice,
)
from contributions.treasury import settle_treasury
from payers.models import Person

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
vouchers = itertools.count(1)


@pytest.fixture
def enrolment():
    office = TaxOffice.objects.first()
    return Enrolment.objects.create(
        person=Person.objects.create(name="张三", id_number="310101199001011234"),
        payer_type=PayerType.FLEXIBLE,
        agency=Agency.objects.first(),
        personnel_number="0000000199999",
        category=LevyCategory.objects.first(),
        tax_office=office,
        valid_from=date(2019, 1, 1),
    )


@pytest.fixture
def paid(enrolment):
    """A paid record, paid at the given Shanghai wall-clock time."""

    def make(*when, treasury_date=None):
        return PaidRecord.objects.create(
            voucher_number=f"V{next(vouchers):08d}",
            enrolment=enrolment,
            tax_authority=TaxAuthority.objects.first(),
            period_start=date(2024, 1, 1),
            period_end=date(2024, 1, 31),
            paid_at=datetime(*when, tzinfo=SHANGHAI),
            treasury_date=treasury_date,
            amount=Decimal("1492.00"),
        )

    return make


def treasury_date(record):
    record.refresh_from_db()
    return record.treasury_date


def test_rule_7_paid_money_enters_the_treasury_three_working_days_later(paid):
    friday = paid(2024, 3, 1, 10, 0)

    assert settle_treasury(as_of=date(2024, 3, 5)) == 0
    assert treasury_date(friday) is None

    assert settle_treasury(as_of=date(2024, 3, 6)) == 1
    assert treasury_date(friday) == date(2024, 3, 6)  # the Wednesday after


def test_rule_7_the_treasury_date_is_the_computed_day_not_the_day_of_the_run(paid):
    friday = paid(2024, 3, 1, 10, 0)

    settle_treasury(as_of=date(2024, 3, 20))

    assert treasury_date(friday) == date(2024, 3, 6)


def test_rule_7_payments_before_a_holiday_enter_the_treasury_after_it(paid):
    before_national_day = paid(2024, 9, 30, 9, 0)  # Oct 1–7 off
    before_worked_sunday = paid(2024, 9, 27, 9, 0)  # Sunday Sept 29 is worked (调休)

    assert settle_treasury(as_of=date(2024, 10, 10)) == 2

    assert treasury_date(before_worked_sunday) == date(2024, 10, 8)
    assert treasury_date(before_national_day) == date(2024, 10, 10)


def test_rule_7_a_record_whose_day_has_not_come_stays_without_a_treasury_date(paid):
    due = paid(2024, 3, 1, 10, 0)
    not_yet = paid(2024, 3, 4, 10, 0)
    unpaid = paid(2024, 3, 1, 10, 0)
    PaidRecord.objects.filter(pk=unpaid.pk).update(paid_at=None)

    assert settle_treasury(as_of=date(2024, 3, 6)) == 1

    assert treasury_date(due) == date(2024, 3, 6)
    assert treasury_date(not_yet) is None  # Monday Mar 4 reaches the treasury on Thursday Mar 7
    assert treasury_date(unpaid) is None


def test_rule_7_settling_twice_changes_nothing_the_second_time(paid):
    record = paid(2024, 3, 1, 10, 0)
    already = paid(2024, 3, 1, 11, 0, treasury_date=date(2024, 3, 4))

    assert settle_treasury(as_of=date(2024, 3, 6)) == 1
    assert settle_treasury(as_of=date(2024, 3, 6)) == 0

    assert treasury_date(record) == date(2024, 3, 6)
    assert treasury_date(already) == date(2024, 3, 4)  # a date already given is never moved


def test_rule_7_the_payment_day_is_the_day_in_shanghai(paid):
    late_evening = paid(2024, 3, 1, 23, 30)  # 15:30 UTC, still Friday Mar 1
    past_midnight = paid(2024, 3, 1, 0, 30)  # Feb 29 16:30 UTC, but Mar 1 in Shanghai

    assert late_evening.paid_at == datetime(2024, 3, 1, 15, 30, tzinfo=ZoneInfo("UTC"))
    assert settle_treasury(as_of=date(2024, 3, 5)) == 0
    assert settle_treasury(as_of=date(2024, 3, 6)) == 2

    assert treasury_date(late_evening) == date(2024, 3, 6)
    assert treasury_date(past_midnight) == date(2024, 3, 6)


def test_rule_7_one_update_per_payment_day(paid, django_assert_num_queries):
    for hour in (9, 10, 11):
        paid(2024, 3, 1, hour, 0)
        paid(2024, 3, 4, hour, 0)

    # payment days, the calendar, then one UPDATE per day
    with django_assert_num_queries(4):
        assert settle_treasury(as_of=date(2024, 3, 7)) == 6


def test_settle_treasury_command_reports_in_chinese(paid):
    paid(2024, 3, 1, 10, 0)
    out = StringIO()

    call_command("settle_treasury", "--date", "2024-03-06", stdout=out)

    assert out.getvalue() == "已入库 1 条缴费记录（截至 2024-03-06）\n"


def test_settle_treasury_command_rejects_a_malformed_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("settle_treasury", "--date", "2024/03/06")


def test_settle_treasury_command_defaults_to_today_in_shanghai(paid):
    paid(2024, 3, 1, 10, 0)
    out = StringIO()

    with time_machine.travel(datetime(2024, 3, 6, 1, 30, tzinfo=SHANGHAI), tick=False):  # Mar 5 in UTC
        call_command("settle_treasury", stdout=out)

    assert out.getvalue() == "已入库 1 条缴费记录（截至 2024-03-06）\n"


def test_the_nightly_task_settles_as_of_today_and_returns_the_count(paid):
    record = paid(2024, 3, 1, 10, 0)

    with time_machine.travel(datetime(2024, 3, 6, 1, 30, tzinfo=SHANGHAI), tick=False):
        assert tasks.settle_treasury() == 1

    assert treasury_date(record) == date(2024, 3, 6)
