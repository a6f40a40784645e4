from django.core.management.base import BaseCommand, CommandError

from contributions.calendar import supported_years, sync_holidays
from contributions.models import CalendarDay


class Command(BaseCommand):
    help = (
        "Add the holidays and worked weekends the installed chinesecalendar package knows to the calendar "
        "table; run after upgrading the package. Existing rows, including staff edits, are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="only this year (default: every year the package knows)")

    def handle(self, *args, year=None, **options):
        known = supported_years()
        if year is not None and year not in known:
            raise CommandError(
                f"chinesecalendar 不包含 {year} 年的节假日安排（支持 {known.start}–{known.stop - 1} 年），"
                "请升级该软件包，或在后台“节假日及调休”中手工录入。"
            )
        years = known if year is None else [year]
        added = sync_holidays(CalendarDay, years=years)
        self.stdout.write(f"已同步 {years[0]}–{years[-1]} 年节假日及调休：新增 {added} 条")
