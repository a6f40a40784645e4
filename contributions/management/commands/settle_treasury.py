import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from contributions.treasury import settle_treasury


class Command(BaseCommand):
    help = "入库: give paid records their treasury date once enough working days have passed (SPEC rule 7)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="settle as of this day, YYYY-MM-DD (default: today in Shanghai)")

    def handle(self, *args, date=None, **options):
        try:
            as_of = datetime.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError as error:
            raise CommandError(f"日期格式应为 YYYY-MM-DD：{date}") from error
        count = settle_treasury(as_of=as_of)
        self.stdout.write(f"已入库 {count} 条缴费记录（截至 {as_of:%Y-%m-%d}）")
