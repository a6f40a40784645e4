"""
Batch auto-debit (批量扣款) over many payable bills with the simulated bank:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shebao_bench .venv/bin/python bench/batch_debit.py \
        [--bills 1000000] [--short-of-funds 0.1] [--json out.json]

Recreates the database named by DATABASE_URL (dropped first if it exists; left empty and migrated at the
end) and sets up, outside the timing, flexible workers with two daily bills each (pension and medical
under one 征集通知单号, payable on the run's day), one sandbox bank account and one active mandate each:
people, enrolments, bills and accounts by COPY, mandates through the ORM (`bulk_create`, so an
encrypted account number is encrypted as the portal would). `--short-of-funds` of the accounts hold too
little, so the insufficient-funds path (failed payment, attempt, SMS) is part of the run.

Then times `manage.py run_batch_debit --date <the latest deduction day>` in its own process (bench.settings:
DEBUG off) with its peak RSS and CPU time, and the CPU time of its PostgreSQL backends (read from /proc
every half second while it runs, when PostgreSQL runs on this machine: most of a batch's work is
PostgreSQL's), checks what it wrote (bills paid, debits, balances, attempts, SMS) and prints bills/s.
--json writes the figures for bench/report.py.
"""

import argparse
import datetime
import json
import os
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shebao_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

from bench import procstat  # noqa: E402
from bench.import_bills import run_measured  # noqa: E402
from bench.pages import recreate_database  # noqa: E402

BILLS = [("SB", "1021001", Decimal("1492.00")), ("YB", "1021101", Decimal("857.90"))]  # per person
ENOUGH, TOO_LITTLE = Decimal("10000.00"), Decimal("100.00")
MANDATE_BATCH = 5_000


def copy_rows(model, fields, rows):
    """COPY `rows` (tuples in the order of `fields`, model field names) into the model's table."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # noqa: S608
        for row in rows:
            copy.write_row(row)


def latest_deduction_day():
    from django.utils import timezone

    from contributions.calendar import is_auto_debit_day

    day = timezone.localdate()
    while not is_auto_debit_day(day):
        day -= datetime.timedelta(days=1)
    return day


def set_up(people, short_of_funds, run_date):
    """People, enrolments, bills, bank accounts and mandates for `people` flexible workers."""
    from django.db import connection
    from django.utils import timezone

    from bank_sandbox.models import SandboxAccount
    from contributions.models import Agency, Bill, Enrolment, LevyCategory, TaxOffice
    from mandates.models import Mandate, MandateChannel
    from payers.models import Person

    now = timezone.now()
    office = TaxOffice.objects.get(code="13101150100").pk
    agencies = dict(Agency.objects.values_list("code", "pk"))
    categories = dict(LevyCategory.objects.values_list("code", "pk"))
    month = (run_date.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    month_end = run_date.replace(day=1) - datetime.timedelta(days=1)
    payable_until = run_date + datetime.timedelta(days=60)
    short_every = round(1 / short_of_funds) if short_of_funds else 0

    def id_number(i):
        return f"31011519900101{i:04d}" if i < 10_000 else f"3101{i:014d}"

    copy_rows(
        Person,
        ["name", "id_type", "id_number", "nationality", "phone", "created_at", "updated_at"],
        ((f"测试{i}", "201", id_number(i), "中国", f"139{i:08d}", now, now) for i in range(people)),
    )
    person_ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    copy_rows(
        Enrolment,
        [
            "person_id",
            "payer_type",
            "agency_id",
            "personnel_number",
            "category_id",
            "base",
            "fee_setting",
            "tax_office_id",
            "valid_from",
        ],  # fmt: skip
        (
            (
                pk,
                "flexible",
                agencies[agency + "310115"],
                f"9{i:012d}",
                categories[category],
                Decimal("7460.00"),
            )
            + ("社保核定", office, datetime.date(2019, 1, 1))
            for i, pk in enumerate(person_ids)
            for agency, category, _ in BILLS
        ),
    )
    with connection.cursor() as cursor:
        amount = " ".join(f"WHEN {categories[code]} THEN {amount}" for _, code, amount in BILLS)
        cursor.execute(
            f"INSERT INTO {Bill._meta.db_table} (notice_number, enrolment_id, period_start, period_end, amount, "  # noqa: S608
            "contribution_type, kind, tax_office_id, payable_until, status, created_at) "
            f"SELECT '31' || personnel_number, id, %s, %s, CASE category_id {amount} END, 'normal', 'daily', "
            f"tax_office_id, %s, 'unpaid', %s FROM {Enrolment._meta.db_table}",
            [month, month_end, payable_until, now],
        )
    copy_rows(
        SandboxAccount,
        [
            "bank",
            "account_number",
            "holder_name",
            "holder_id_type",
            "holder_id_number",
            "reserved_phone",
            "account_class",
            "balance",
            "frozen",
            "opened_at",
        ],  # fmt: skip
        (
            ("ICBC", f"6222{i:015d}", f"测试{i}", "201", id_number(i), f"139{i:08d}", "I")
            + (TOO_LITTLE if short_every and i % short_every == 0 else ENOUGH, False, now)
            for i in range(people)
        ),
    )
    for start in range(0, people, MANDATE_BATCH):
        Mandate.objects.bulk_create(
            Mandate(
                person_id=person_ids[i],
                bank="ICBC",
                account_number=f"6222{i:015d}",
                account_name=f"测试{i}",
                reserved_phone=f"139{i:08d}",
                channel=MandateChannel.ONLINE,
            )
            for i in range(start, min(start + MANDATE_BATCH, people))
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def check(people, bills, short_of_funds):
    """What the run wrote, as counts; raises if anything is off."""
    from django.db.models import Sum

    from bank_sandbox.models import SandboxAccount, SandboxDebit
    from contributions.models import Bill, PaidRecord, Payment
    from mandates.models import DebitAttempt
    from payers.models import SmsMessage

    short = len(range(0, people, round(1 / short_of_funds))) if short_of_funds else 0
    counts = {
        "bills paid": Bill.objects.filter(status="paid").count(),
        "paid records": PaidRecord.objects.count(),
        "payments succeeded": Payment.objects.filter(status="succeeded").count(),
        "payments failed": Payment.objects.filter(status="failed").count(),
        "bank debits": SandboxDebit.objects.count(),
        "attempts": DebitAttempt.objects.count(),
        "SMS": SmsMessage.objects.filter(purpose="batch_debit").count(),
    }
    expected = {
        "bills paid": bills - 2 * short,
        "paid records": bills - 2 * short,
        "payments succeeded": people - short,
        "payments failed": short,
        "bank debits": people,
        "attempts": people,
        "SMS": people,
    }
    if counts != expected:
        raise SystemExit(f"the run wrote {counts}, expected {expected}")
    per_person = sum(amount for _, _, amount in BILLS)
    balances = SandboxAccount.objects.aggregate(total=Sum("balance"))["total"]
    expected_balances = (people - short) * (ENOUGH - per_person) + short * TOO_LITTLE
    if balances != expected_balances:
        raise SystemExit(f"balances total {balances}, expected {expected_balances}")
    return counts


class BackendCpu:
    """
    The CPU seconds of the database's client backends while a `with` block runs, summed over backends,
    read from /proc every half second (so the last half second of each is missed); None when PostgreSQL
    does not run on this machine.
    """

    def __init__(self, database_url):
        self.database_url = database_url
        self.seconds = {}  # backend pid -> its CPU seconds when last seen
        self.done = threading.Event()

    def __enter__(self):
        self.thread = threading.Thread(target=self._sample)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    @property
    def total(self):
        return sum(self.seconds.values()) if self.seconds else None

    def _sample(self):
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as connection:
            query = (
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
            while not self.done.wait(0.5):
                for (pid,) in connection.execute(query):
                    used = procstat.cpu_seconds(pid)
                    if used is not None:  # None: ended meanwhile, or PostgreSQL runs elsewhere
                        self.seconds[pid] = used


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bills", type=int, default=1_000_000, help="payable bills (two per person)")
    parser.add_argument("--short-of-funds", type=float, default=0.1, help="share of accounts short of funds")
    parser.add_argument("--json", type=Path, help="write the figures here for bench/report.py")
    parser.add_argument("--setup-only", action="store_true", help="set up and stop (to profile by hand)")
    args = parser.parse_args()
    database_url = os.environ["DATABASE_URL"]
    if not database_url.startswith("postgres"):
        raise SystemExit("bench/batch_debit.py needs PostgreSQL: set DATABASE_URL")
    people = max(1, args.bills // len(BILLS))
    bills = people * len(BILLS)

    recreate_database(database_url)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    run_measured(["migrate", "--noinput", "-v", "0"], env)
    import django

    django.setup()
    from django.db import connections

    run_date = latest_deduction_day()
    started = time.perf_counter()
    set_up(people, args.short_of_funds, run_date)
    setup_s = time.perf_counter() - started
    connections.close_all()
    print(
        f"{bills:,} payable bills, {people:,} mandates; set up in {setup_s:.0f} s; deduction day {run_date}"
    )
    if args.setup_only:
        return

    with BackendCpu(database_url) as backends:
        seconds, rss, output, cpu = run_measured(["run_batch_debit", "--date", f"{run_date}"], env)
    counts = check(people, bills, args.short_of_funds)
    connections.close_all()
    recreate_database(database_url)
    run_measured(["migrate", "--noinput", "-v", "0"], env)

    print(f"    {output}")
    print("    " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
    backend_cpu = backends.total
    print(
        f"{'run':20} {'seconds':>8} {'bills/s':>8} {'mandates/s':>10} {'CPU s':>7} {'bills/CPU s':>11} "
        f"{'PostgreSQL CPU s':>16} {'peak RSS':>9}"
    )
    print(
        f"{'run_batch_debit':20} {seconds:8.1f} {bills / seconds:8.0f} {people / seconds:10.0f} {cpu:7.1f} "
        f"{bills / cpu:11.0f} {'-' if backend_cpu is None else f'{backend_cpu:.1f}':>16} {rss:5.0f} MiB"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "bills": bills,
                    "mandates": people,
                    "short_of_funds": args.short_of_funds,
                    "seconds": seconds,
                    "bills_per_s": bills / seconds,
                    "mandates_per_s": people / seconds,
                    "cpu_seconds": cpu,
                    "postgresql_cpu_seconds": backend_cpu,
                    "bills_per_cpu_s": bills / cpu,
                    "rss_mib": rss,
                    "summary": output,
                    "counts": counts,
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
