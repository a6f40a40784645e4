"""The import commands' shared part: options, the progress bar and the Chinese report."""

import argparse
import os
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import reset_queries

SHOWN_ERRORS = 100


class ImportCommand(BaseCommand):
    """A thin command around an import service: `import_file(path, *, dry_run, progress)`."""

    import_file = None  # set by subclasses: staticmethod(contributions.importing.import_…)
    what = ""  # e.g. "参保登记"

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV 文件（UTF-8，格式见 docs/data-exchange.md）")
        parser.add_argument("--dry-run", action="store_true", help="只校验文件并统计，不写入数据库")
        parser.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="在标准错误输出显示进度（默认：标准错误输出是终端时显示）",
        )

    def handle(self, *args, file, dry_run=False, progress=None, **options):
        if not os.path.isfile(file):
            raise CommandError(f"找不到文件：{file}")
        if progress is None:
            progress = self.stderr.isatty()
        bar = ProgressBar(self.stderr) if progress else None

        def after_chunk(stage, done, total):
            # With DEBUG on, Django keeps the SQL of the last 9,000 queries: megabytes per chunk here.
            reset_queries()
            if bar:
                bar(stage, done, total)

        try:
            result = self.import_file(file, dry_run=dry_run, progress=after_chunk)
        finally:
            if bar:
                bar.finish()
        if not result.ok:
            for line, reason in result.errors[:SHOWN_ERRORS]:
                self.stderr.write(f"第 {line} 行：{reason}")
            more = "…" if result.error_count > min(len(result.errors), SHOWN_ERRORS) else ""
            self.stderr.write(f"{more}共 {result.error_count:,} 行有误")
            raise CommandError("文件有误，未导入任何数据。")
        counts = f"新增 {result.created:,} 条，更新 {result.updated:,} 条，未变化 {result.unchanged:,} 条"
        if dry_run:
            self.stdout.write(f"文件校验通过（试运行，未写入数据库）。{self.what}将{counts}。")
        else:
            self.stdout.write(self.style.SUCCESS(f"{self.what}导入完成：{counts}。"))
        self.report(result)

    def report(self, result):
        """More summary lines, for subclasses."""


class ProgressBar:
    """`\\r导入中 42% (420,000/1,000,000)` on a stream, redrawn at most four times a second."""

    interval = 0.25

    def __init__(self, stream):
        self.stream = stream
        self.stage = None
        self.drawn_at = 0.0

    def __call__(self, stage, done, total):
        now = time.monotonic()
        finished = total is not None and done >= total
        if stage == self.stage and not finished and now - self.drawn_at < self.interval:
            return
        if self.stage not in (None, stage):
            self.stream.write("")  # keep the finished stage's line
        self.stage, self.drawn_at = stage, now
        total = max(total or 0, done)
        percent = done * 100 // total if total else 100
        self.stream.write(f"\r{stage}中 {percent}% ({done:,}/{total:,})", style_func=str, ending="")
        self.stream.flush()

    def finish(self):
        if self.stage is not None:
            self.stream.write("")
