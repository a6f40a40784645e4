"""
Working days, as the Chinese public-holiday calendar has them (调休 included; SPEC rules 5, 7, 9).

Monday to Friday are working days except where a `CalendarDay` row says otherwise. The table is the only
source at run time: it is seeded from the chinesecalendar package (migration 0004, `manage.py
sync_holidays`), and staff add the years the package does not know in admin. Nothing here calls the
package while counting, so dates past its last year (it raises for them) follow Monday to Friday plus
whatever staff entered.

Every call reads the rows it needs in one query and keeps nothing between calls, so an admin edit counts
at once in every process (web, worker, beat) without a restart or a cache to clear.
"""

import datetime
from calendar import monthrange

from django.conf import settings

from contributions.models import CalendarDay

ONE_DAY = datetime.timedelta(days=1)

# Read this far past the last day asked about: the longest holiday (8 days) plus its weekends fits, so a
# walk to the next working day rarely needs a second query.
LOOKAHEAD = datetime.timedelta(days=45)

# The package's English holiday names, as the State Council's notices name them in Chinese.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
NATIONAL_DAY, MID_AUTUMN = "National Day", "Mid-autumn Festival"
MID_AUTUMN_SINCE = 2008  # the year 中秋节 became a public holiday
WORKED_WEEKEND_SUFFIX = "调休上班"


class WorkingCalendar:
    """
    Working days over a span of dates, read from `CalendarDay` in one query and extended with another
    only when asked about a day outside it. Build one per operation; do not keep it across requests.
    """

    def __init__(self, start=None, end=None):
        self._exceptions = {}
        self._start = self._end = None
        if start is not None:
            self._load(start, end or start)

    def _load(self, start, end):
        rows = CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "is_working_day")
        self._exceptions.update(rows)
        self._start = start if self._start is None else min(start, self._start)
        self._end = end if self._end is None else max(end, self._end)

    def _ensure_loaded(self, day):
        if self._start is None:
            self._load(day, day + LOOKAHEAD)
        elif day > self._end:
            self._load(self._end + ONE_DAY, day + LOOKAHEAD)
        elif day < self._start:
            self._load(day, self._start - ONE_DAY)

    def is_working_day(self, day):
        self._ensure_loaded(day)
        if day in self._exceptions:
            return self._exceptions[day]
        return day.weekday() < 5

    def next_working_day(self, day):
        """`day` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def add_working_days(self, day, count):
        """The `count`-th working day after `day` (`day` itself when `count` is 0)."""
        if count < 0:
            raise ValueError("count must not be negative")
        for _ in range(count):
            day = self.next_working_day(day + ONE_DAY)
        return day

    def working_days_between(self, start, end):
        """How many working days fall after `start`, up to and including `end`."""
        self._ensure_loaded(start)
        self._ensure_loaded(end)
        return sum(
            self.is_working_day(start + ONE_DAY * offset) for offset in range(1, (end - start).days + 1)
        )

    def auto_debit_days(self, year, month):
        """The days of one month on which the bureau debits mandate accounts (SPEC rule 9)."""
        last_day = monthrange(year, month)[1]
        scheduled = [
            datetime.date(year, month, day) for day in sorted(settings.AUTO_DEBIT_DAYS) if day <= last_day
        ]
        # 逢国定节假日顺延: a scheduled day that is not a working day moves to the next one.
        return sorted({self.next_working_day(day) for day in scheduled})


def is_working_day(day):
    """Whether `day` is a working day: its CalendarDay row decides, else Monday to Friday are."""
    return WorkingCalendar().is_working_day(day)


def next_working_day(day):
    """`day` itself when it is a working day, else the first working day after it."""
    return WorkingCalendar().next_working_day(day)


def add_working_days(day, count):
    """The `count`-th working day after `day`, e.g. the treasury date of a payment (SPEC rule 7)."""
    return WorkingCalendar().add_working_days(day, count)


def working_days_between(start, end):
    """How many working days fall after `start`, up to and including `end` (0 when `end` <= `start`)."""
    return WorkingCalendar(start, max(start, end)).working_days_between(start, end)


def auto_debit_days(year, month):
    """
    The dates the bureau debits mandate accounts in a month: each of `settings.AUTO_DEBIT_DAYS` that the
    month has, moved to the next working day when it is not one. A moved day may fall in the next month.
    """
    return WorkingCalendar().auto_debit_days(year, month)


def is_auto_debit_day(day):
    """Whether the bureau debits mandate accounts on `day`, so self-service payment is closed (SPEC rule 5)."""
    previous = (day.replace(day=1) - ONE_DAY).replace(day=1)
    calendar = WorkingCalendar(previous, day + LOOKAHEAD)
    # A debit day late in the previous month may have moved into this one.
    return any(day in calendar.auto_debit_days(month.year, month.month) for month in (previous, day))


def supported_years():
    """The years the installed chinesecalendar package knows, as a range."""
    import chinese_calendar

    known = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return range(min(known).year, max(known).year + 1)


def sync_holidays(calendar_day_model, *, years=None):
    """
    Add the installed chinesecalendar package's holidays on weekdays and worked weekends to the table of
    `calendar_day_model` (the model class, so a migration can pass its historical model).

    Only the exceptions to "Monday to Friday are working days" are stored. Rows already there, including
    staff edits, are kept as they are, so running it again changes nothing. `years` defaults to every
    year the package knows; a year it does not know raises ValueError. Returns the number of rows added.
    """
    import chinese_calendar

    known = supported_years()
    years = known if years is None else years
    unknown = [year for year in years if year not in known]
    if unknown:
        raise ValueError(f"chinesecalendar does not know {unknown}; it knows {known.start}–{known.stop - 1}")
    wanted = set(years)
    rows = []
    for year in sorted(wanted):
        holidays = {day: name for day, name in chinese_calendar.holidays.items() if day.year == year}
        names = _chinese_names(year, holidays)
        rows += [
            calendar_day_model(date=day, is_working_day=False, name=names(name))
            for day, name in holidays.items()
            if day.weekday() < 5
        ]
        rows += [
            calendar_day_model(date=day, is_working_day=True, name=names(name) + WORKED_WEEKEND_SUFFIX)
            for day, name in chinese_calendar.workdays.items()
            if day.year == year and day.weekday() >= 5
        ]
    table = calendar_day_model.objects.filter(date__year__in=wanted)
    before = table.count()
    calendar_day_model.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return table.count() - before


def _chinese_names(year, holidays):
    """
    A function from the package's English holiday name to the Chinese one for `year`.

    The package files a Mid-autumn Festival that falls inside the National Day holiday under one of the
    two names (or, in 2020, only under National Day); the notices call that holiday "国庆节、中秋节" (or
    "中秋节、国庆节" when it starts with the Mid-autumn day).
    """
    from chinese_calendar import Holiday

    fallback = {holiday.value: holiday.chinese for holiday in Holiday}
    combined = None
    for block in _consecutive_runs(sorted(holidays)):
        block_names = [holidays[day] for day in block]
        if NATIONAL_DAY in block_names and MID_AUTUMN in block_names:
            first = [name for name in dict.fromkeys(block_names) if name in (NATIONAL_DAY, MID_AUTUMN)]
            combined = "、".join(HOLIDAY_NAMES[name] for name in first)
    names = set(holidays.values())
    if combined is None and year >= MID_AUTUMN_SINCE and NATIONAL_DAY in names and MID_AUTUMN not in names:
        combined = "国庆节、中秋节"  # 2020: Mid-autumn fell on Oct 1 and is filed as National Day

    def name_of(english):
        if combined and english in (NATIONAL_DAY, MID_AUTUMN):
            return combined
        return HOLIDAY_NAMES.get(english) or fallback.get(english) or english

    return name_of


def _consecutive_runs(days):
    run = []
    for day in days:
        if run and day - run[-1] != ONE_DAY:
            yield run
            run = []
        run.append(day)
    if run:
        yield run
