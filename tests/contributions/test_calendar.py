from datetime import date
from io import StringIO

import chinese_calendar
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from contributions.calendar import (
    add_working_days,
    auto_debit_days,
    is_auto_debit_day,
    is_working_day,
    next_working_day,
    working_days_between,
)
from contributions.models import CalendarDay

pytestmark = pytest.mark.django_db


def sync_holidays(*args):
    out = StringIO()
    call_command("sync_holidays", *args, stdout=out)
    return out.getvalue()


def test_the_migration_seeds_the_exceptions_the_package_knows():
    weekday_holidays = [day for day in chinese_calendar.holidays if day.weekday() < 5]
    worked_weekends = [day for day in chinese_calendar.workdays if day.weekday() >= 5]
    years = {day.year for day in CalendarDay.objects.values_list("date", flat=True)}

    assert CalendarDay.objects.count() == len(weekday_holidays) + len(worked_weekends)
    assert min(years) == 2004
    assert max(years) == max(chinese_calendar.holidays).year
    assert CalendarDay.objects.filter(is_working_day=False).count() == len(weekday_holidays)


@pytest.mark.parametrize(
    ("day", "is_working", "name"),
    [
        (date(2024, 10, 1), False, "国庆节"),
        (date(2024, 10, 12), True, "国庆节调休上班"),  # a Saturday
        (date(2024, 2, 12), False, "春节"),
        (date(2024, 4, 4), False, "清明节"),
        (date(2020, 10, 1), False, "国庆节、中秋节"),
        (date(2023, 9, 29), False, "中秋节、国庆节"),
        (date(2015, 9, 3), False, "抗战胜利纪念日"),
    ],
)
def test_seeded_days_carry_the_chinese_holiday_name(day, is_working, name):
    row = CalendarDay.objects.get(date=day)

    assert (row.is_working_day, row.name) == (is_working, name)


def test_weekends_inside_a_holiday_are_not_stored_they_are_rest_days_anyway():
    assert not CalendarDay.objects.filter(date=date(2024, 10, 5)).exists()
    assert not is_working_day(date(2024, 10, 5))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 9, 27), True),  # Friday
        (date(2024, 9, 29), True),  # Sunday worked (调休)
        (date(2024, 10, 1), False),
        (date(2024, 10, 7), False),  # Monday, still the holiday
        (date(2024, 10, 8), True),
        (date(2024, 10, 12), True),  # Saturday worked (调休)
        (date(2024, 10, 13), False),
    ],
)
def test_rule_7_working_days_follow_the_public_holiday_calendar(day, expected):
    assert is_working_day(day) is expected


def test_rule_7_counting_working_days_skips_the_national_day_week():
    # Sept 30 2024 is a Monday; Oct 1–7 are off, so the working days after it are Oct 8, 9 and 10.
    assert add_working_days(date(2024, 9, 30), 3) == date(2024, 10, 10)
    assert add_working_days(date(2024, 9, 30), 0) == date(2024, 9, 30)
    assert working_days_between(date(2024, 9, 30), date(2024, 10, 10)) == 3
    assert working_days_between(date(2024, 10, 10), date(2024, 9, 30)) == 0


def test_rule_7_a_worked_weekend_counts_as_a_working_day():
    # Friday Sept 27 2024: the next working day is Sunday Sept 29 (调休), then Monday Sept 30.
    assert add_working_days(date(2024, 9, 27), 1) == date(2024, 9, 29)
    assert add_working_days(date(2024, 9, 27), 3) == date(2024, 10, 8)


def test_years_the_package_does_not_know_follow_monday_to_friday():
    assert is_working_day(date(2027, 2, 8))  # a Monday
    assert not is_working_day(date(2027, 2, 6))  # a Saturday
    assert add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 8)
    assert auto_debit_days(2027, 2) == [date(2027, 2, 10), date(2027, 2, 22)]


def test_a_day_staff_add_in_admin_counts_at_once(admin_client):
    response = admin_client.post(
        reverse("admin:contributions_calendarday_add"),
        {"date": "2027-02-08", "is_working_day": "", "name": "春节"},
    )
    assert response.status_code == 302, response.content

    assert not is_working_day(date(2027, 2, 8))
    assert add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 9)

    CalendarDay.objects.filter(date=date(2027, 2, 8)).delete()

    assert is_working_day(date(2027, 2, 8))


def test_rule_9_auto_debit_days_are_the_scheduled_days_when_they_are_working_days():
    assert auto_debit_days(2024, 10) == [date(2024, 10, 10), date(2024, 10, 21)]  # the 20th is a Sunday
    assert auto_debit_days(2025, 5) == [date(2025, 5, 12), date(2025, 5, 20)]  # the 10th is a Saturday


def test_rule_9_an_auto_debit_day_in_a_holiday_moves_to_the_next_working_day():
    # Feb 10 2024 is in the Spring Festival (Feb 10–17); Sunday Feb 18 is worked (调休).
    assert auto_debit_days(2024, 2) == [date(2024, 2, 18), date(2024, 2, 20)]
    assert is_auto_debit_day(date(2024, 2, 18))
    assert not is_auto_debit_day(date(2024, 2, 10))
    assert next_working_day(date(2024, 2, 10)) == date(2024, 2, 18)


def test_rule_9_scheduled_days_a_month_lacks_are_skipped(settings):
    settings.AUTO_DEBIT_DAYS = [10, 30]

    assert auto_debit_days(2025, 2) == [date(2025, 2, 10)]


def test_rule_9_a_debit_day_moved_into_the_next_month_is_a_debit_day_there(settings):
    settings.AUTO_DEBIT_DAYS = [31]  # Aug 31 2024 is a Saturday

    assert auto_debit_days(2024, 8) == [date(2024, 9, 2)]
    assert is_auto_debit_day(date(2024, 9, 2))
    assert not is_auto_debit_day(date(2024, 9, 3))


def test_each_answer_reads_the_calendar_once(django_assert_num_queries):
    with django_assert_num_queries(1):
        auto_debit_days(2024, 2)
    with django_assert_num_queries(1):
        add_working_days(date(2024, 9, 30), 3)
    with django_assert_num_queries(1):
        is_auto_debit_day(date(2024, 10, 10))


def test_sync_holidays_is_idempotent_and_keeps_staff_edits():
    count = CalendarDay.objects.count()

    assert "新增 0 条" in sync_holidays()
    assert CalendarDay.objects.count() == count

    CalendarDay.objects.filter(date=date(2024, 10, 1)).delete()
    CalendarDay.objects.filter(date=date(2024, 10, 12)).update(name="国庆节补班")

    assert sync_holidays("--year", "2024") == "已同步 2024–2024 年节假日及调休：新增 1 条\n"
    assert sync_holidays().endswith("新增 0 条\n")
    assert CalendarDay.objects.count() == count
    assert CalendarDay.objects.get(date=date(2024, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(date=date(2024, 10, 12)).name == "国庆节补班"


def test_sync_holidays_refuses_a_year_the_package_does_not_know():
    with pytest.raises(CommandError, match="不包含 2099 年"):
        sync_holidays("--year", "2099")
