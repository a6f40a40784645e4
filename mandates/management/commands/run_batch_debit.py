import datetime

from django.core.management.base import BaseCommand, CommandError

from mandates.batch import Outcome, run_batch_debit


class Command(BaseCommand):
    help = "批量扣款: debit mandate accounts for payable daily bills on a deduction day (SPEC rule 9)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the deduction day, YYYY-MM-DD (default: today in Shanghai)")
        parser.add_argument("--dry-run", action="store_true", help="say what would be debited; write nothing")
        parser.add_argument(
            "--resume", action="store_true", help="finish the day's run that failed or was interrupted"
        )

    def handle(self, *args, date=None, dry_run=False, resume=False, **options):
        try:
            run_date = datetime.date.fromisoformat(date) if date else None
        except ValueError as error:
            raise CommandError(f"日期格式应为 YYYY-MM-DD：{date}") from error
        self.progress_shown = False
        progress = self.show_progress if self.stderr.isatty() else None
        summary = run_batch_debit(run_date=run_date, dry_run=dry_run, resume=resume, progress=progress)
        if self.progress_shown:
            self.stderr.write("", style_func=str)
        if summary.outcome == Outcome.REFUSED:
            raise CommandError(summary.message)
        self.stdout.write(summary.message)

    def show_progress(self, done, total):
        if done == total or done % 100 == 0:
            self.stderr.write(f"\r已处理 {done}/{total} 户", style_func=str, ending="")
            self.stderr.flush()
            self.progress_shown = True
