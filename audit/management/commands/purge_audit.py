from django.core.management.base import BaseCommand, CommandError

from audit import services


class Command(BaseCommand):
    help = (
        "Delete staff audit rows (工作人员操作审计) older than the retention period: "
        f"--older-than-days, default {services.DEFAULT_RETENTION_DAYS} days (3 years)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=services.DEFAULT_RETENTION_DAYS,
            help=f"keep this many days of audit rows (default {services.DEFAULT_RETENTION_DAYS}, 3 years)",
        )

    def handle(self, *args, older_than_days, **options):
        if older_than_days < 1:
            raise CommandError("--older-than-days must be at least 1.")
        deleted = services.purge(older_than_days=older_than_days)
        self.stdout.write(f"已删除 {deleted} 条超过 {older_than_days} 天的审计记录。")
