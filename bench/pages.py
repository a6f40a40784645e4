"""
Page throughput under gunicorn against PostgreSQL, next to a bare-Django baseline in the same server:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shebao_bench .venv/bin/python bench/pages.py

Creates the database (dropped first if it exists, dropped again at the end), migrates, runs seed_demo,
then gives the demo user 张灵活 (linghuo) 24 payable bills, 200 paid records and 20 certificates.
Starts gunicorn (bench.settings) on 127.0.0.1:8765 with 1 worker, then again with 2 (--workers), and
loads each page from a separate process (wrk, or bench/loadgen.py without it) at 32 connections with a
logged-in session cookie: 15 s per page, as 3 passes of 5 s over all the pages in turn, so that load
from elsewhere on a shared machine falls on every page alike (p50: the passes' median; p99: the
worst). Prints requests/s, p50, p99, non-200 responses and the ratio to the baseline's requests/s with
the same number of workers; --json writes the figures for bench/report.py. bench/profile_pages.py
profiles the same pages in-process.
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shebao_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

HOST, PORT = "127.0.0.1", 8765
BASE = f"http://{HOST}:{PORT}"
GUNICORN_LOG = Path(tempfile.gettempdir()) / "shebao-bench-gunicorn.log"
USERNAME = "linghuo"
PAGES = [
    ("baseline (bare view, 20 rows)", "/bench/baseline/"),
    ("home", "/"),
    ("wizard step 3, 24 bills", "/contributions/pay/bills/"),
    ("缴费记录, 200 records", "/contributions/records/"),
    ("certificate downloads, 20", "/certificates/downloads/"),
]


def admin_url(database_url):
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def recreate_database(database_url, *, drop_only=False):
    url, name = admin_url(database_url)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def prepare_data():
    """migrate, seed_demo, and the extra rows the pages are measured with. Returns the wizard state."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from certificates.models import Certificate, CertificateStatus
    from contributions.models import Bill, BillKind, ContributionType, PaidRecord, TaxAuthority
    from payers.models import User

    call_command("migrate", verbosity=0, interactive=False)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)

    user = User.objects.select_related("person").get(username=USERNAME)
    person = user.person
    enrolments = list(person.enrolments.order_by("pk"))
    today = timezone.localdate()
    this_month = today.replace(day=1)
    month_end = (this_month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)

    def months_back(count):
        index = this_month.year * 12 + this_month.month - 1 - count
        return datetime.date(index // 12, index % 12 + 1, 1)

    # 24 bills on step 3's default tab (日常缴费): seed_demo's 2, and 11 more notices of 2 bills each.
    bills = []
    for back in range(2, 13):
        start = months_back(back)
        end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
        for enrolment in enrolments[:2]:
            bills.append(
                Bill(
                    notice_number=f"3101{start:%Y%m}900001",
                    enrolment=enrolment,
                    period_start=start,
                    period_end=end,
                    amount=Decimal("1492.00"),
                    contribution_type=ContributionType.NORMAL,
                    kind=BillKind.DAILY,
                    tax_office=enrolment.tax_office,
                    payable_until=month_end,
                )
            )
    Bill.objects.bulk_create(bills)
    shown = Bill.objects.filter(enrolment__person=person, kind=BillKind.DAILY).count()

    authority = TaxAuthority.objects.get(code=enrolments[0].tax_office.authority.code)
    records = []
    for number in range(200):
        enrolment = enrolments[number % 2]
        start = months_back(number // 2 + 1)
        records.append(
            PaidRecord(
                voucher_number=f"BENCH{number:06d}",
                enrolment=enrolment,
                tax_authority=authority,
                period_start=start,
                period_end=(start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1),
                treasury_date=start + datetime.timedelta(days=40),
                amount=Decimal("596.80"),
            )
        )
    PaidRecord.objects.bulk_create(records)

    now = timezone.now()
    Certificate.objects.bulk_create(
        Certificate(
            applicant=user,
            person=person,
            period_start=months_back(12),
            period_end=months_back(1),
            tax_authority=authority,
            total=Decimal("7161.60"),
            status=CertificateStatus.READY,
            verification_code=f"BENCH{number:010d}",
            finished_at=now,
        )
        for number in range(20)
    )
    counts = {
        "bills on step 3": shown,
        "paid records": PaidRecord.objects.filter(enrolment__person=person).count(),
        "certificates": Certificate.objects.filter(applicant=user).count(),
    }
    wizard = {"person": person.pk, "for_other": False, "enrolments": [e.pk for e in enrolments]}
    return user, wizard, counts


def session_cookie(user, wizard):
    """A logged-in session as django.contrib.auth.login leaves it, with the idle check's last_seen."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["last_seen"] = int(time.time())
    session["pay_wizard"] = wizard
    session.set_expiry(timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE))
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check(path, cookie):
    """The status of one request, redirects not followed (a 302 to login means the session is wrong)."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(BASE + path, headers={"Cookie": cookie})  # noqa: S310 (loopback)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, len(response.read())
    except urllib.error.HTTPError as error:
        return error.code, 0


def start_gunicorn(workers):
    log = GUNICORN_LOG.open("w")  # noqa: SIM115 (closed with the process)
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "portal.wsgi:application",
        f"--bind={HOST}:{PORT}",
        f"--workers={workers}",
        "--env=DJANGO_SETTINGS_MODULE=bench.settings",
        "--log-level=warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    for _ in range(100):
        time.sleep(0.2)
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {GUNICORN_LOG}")
        try:
            urllib.request.urlopen(BASE + "/bench/baseline/", timeout=2).close()  # noqa: S310 (loopback)
            return process
        except OSError:
            continue
    process.terminate()
    raise SystemExit("gunicorn did not answer on " + BASE)


def load(path, cookie, *, connections, duration):
    if shutil.which("wrk"):
        command = [
            "wrk",
            "--threads=2",
            f"--connections={connections}",
            f"--duration={duration}s",
            "--timeout=5s",
            "--latency",
            f"--script={ROOT / 'bench' / 'wrk_report.lua'}",
            f"--header=Cookie: {cookie}",
            BASE + path,
        ]
    else:
        command = [
            sys.executable,
            str(ROOT / "bench" / "loadgen.py"),
            BASE + path,
            f"--connections={connections}",
            f"--duration={duration}",
            f"--cookie={cookie}",
        ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    result = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["p50_ms"] = result["p50_us"] / 1000
    result["p99_ms"] = result["p99_us"] / 1000
    return result


def combine(slices):
    """One page's figures over its passes: req/s over all of them, the median p50 and the worst p99."""
    requests = sum(part["requests"] for part in slices)
    seconds = sum(part["duration_us"] for part in slices) / 1e6
    return {
        "requests": requests,
        "duration_us": int(seconds * 1e6),
        "rps": requests / seconds,
        "p50_ms": statistics.median(part["p50_ms"] for part in slices),
        "p99_ms": max(part["p99_ms"] for part in slices),
        "non200": sum(part["non200"] for part in slices),
        "errors": sum(part["errors"] for part in slices),
        "passes": len(slices),
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=15, help="seconds per page, over all passes")
    parser.add_argument(
        "--passes", type=int, default=3, help="times each page is loaded, in turn with the others"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--workers",
        default="1,2",
        help="gunicorn worker counts, comma-separated: each is a server of its own, loaded with every page",
    )
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args()
    database_url = os.environ["DATABASE_URL"]

    worker_counts = [int(count) for count in args.workers.split(",")]

    recreate_database(database_url)
    server = None
    runs = []
    try:
        user, wizard, counts = prepare_data()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server_version = cursor.fetchone()[0]
        print("data: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
        for workers in worker_counts:
            print(f"gunicorn {workers} workers:", flush=True)
            server = start_gunicorn(workers)
            cookies, sizes = {}, {}
            for _name, path in PAGES:
                cookies[path] = session_cookie(user, wizard)
                status, sizes[path] = check(path, cookies[path])
                if status != 200:
                    raise SystemExit(f"{path} answered {status} before the load, not 200: fix the set-up")
            # The pages in turn, args.passes times, duration / passes seconds each time: a load that comes
            # and goes on a shared machine then falls on every page alike, not on whichever ran then.
            slices = {path: [] for _, path in PAGES}
            for _ in range(args.passes):
                for _name, path in PAGES:
                    seconds = max(1, round(args.duration / args.passes))
                    slices[path].append(
                        load(path, cookies[path], connections=args.connections, duration=seconds)
                    )
            results = []
            for name, path in PAGES:
                result = combine(slices[path])
                results.append(
                    {"page": name, "path": path, "bytes": sizes[path], "workers": workers, **result}
                )
                print(f"  {name}: {result['rps']:.0f} req/s", flush=True)
            server.terminate()
            server.wait(timeout=30)
            server = None
            baseline = results[0]["rps"]
            for result in results:
                # Against the baseline served by the same number of workers.
                result["ratio"] = result["rps"] / baseline
            runs.append({"workers": workers, "pages": results})
        connection.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep_database:
            from django.db import connections

            connections.close_all()
            recreate_database(database_url, drop_only=True)

    print(
        f"\npages: {args.connections} connections, {args.duration} s each; ratio to the baseline with as many workers"
    )
    print(f"{'page':34} {'workers':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-200':>8} {'ratio':>6}")
    for r in sorted(
        (r for run in runs for r in run["pages"]), key=lambda r: PAGES.index((r["page"], r["path"]))
    ):
        bad = r["non200"] + r["errors"]
        print(
            f"{r['page']:34} {r['workers']:7d} {r['rps']:8.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {bad:8d} "
            f"{r['ratio']:6.2f}"
        )
    if args.json:
        main_run = max(runs, key=lambda run: run["workers"])
        report = {
            # The largest worker count's figures (the targets are for 2 workers), then every run.
            "workers": main_run["workers"],
            "pages": main_run["pages"],
            "runs": runs,
            "connections": args.connections,
            "duration": args.duration,
            "passes": args.passes,
            "client": "wrk" if shutil.which("wrk") else "bench/loadgen.py",
            "postgresql": server_version,
            "data": counts,
        }
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
