"""
Page throughput under gunicorn against PostgreSQL, next to a bare-Django baseline in the same server:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shebao_bench .venv/bin/python bench/pages.py

Creates the database (dropped first if it exists, dropped again at the end), migrates, runs seed_demo,
then gives the demo user 张灵活 (linghuo) 24 payable bills, 200 paid records and 20 certificates, and
makes 31 more users like her (--users): each a person of her own with copies of her enrolments, bills,
paid records and certificates. Starts gunicorn (bench.settings) on 127.0.0.1:8765 with 1 worker, then
again with 2 (--workers), and loads each page from a separate process (wrk, or bench/loadgen.py without
it) at 32 connections, every user logged in with a session of their own and each request taking the
next user's: 15 s per page, as 3 passes of 5 s over all the pages in turn, so that load
from elsewhere on a shared machine falls on every page alike (p50: the passes' median; p99: the
worst). Prints requests/s, p50, p99, non-200 responses and the ratio to the baseline's requests/s with
the same number of workers, and the CPU time per request of gunicorn with its PostgreSQL backends
("server", from /proc) and with the load client too ("all"), whose ratio to the baseline's is what the
requests/s ratio tends to on a machine the bench has to itself. --json writes the figures for
bench/report.py. bench/profile_pages.py profiles the same pages in-process.

While trying server settings: --reuse takes the data a run with --keep-database left, --page loads only
some pages (and the baseline), and --gunicorn-option passes options to gunicorn, e.g.

    .venv/bin/python bench/pages.py --reuse --workers 2 --gunicorn-option=--worker-class=gthread
"""

import argparse
import datetime
import json
import os
import resource
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

from bench import procstat  # noqa: E402

HOST, PORT = "127.0.0.1", 8765
BASE = f"http://{HOST}:{PORT}"
GUNICORN_LOG = Path(tempfile.gettempdir()) / "shebao-bench-gunicorn.log"
USERNAME = "linghuo"
USERS = 32  # logged-in users the requests take in turn: as many as connections
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


def prepare_data(users=USERS):
    """
    migrate, seed_demo, the extra rows the pages are measured with, and users - 1 copies of the
    measured user. Returns what existing_data() returns.
    """
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
    for number in range(1, users):
        copy_user(user, number)
    return existing_data()


def copy_user(user, number):
    """
    Another user like `user`: a person of their own (bench-only document number and personnel numbers)
    with copies of the person's enrolments, bills and paid records and of the user's certificates.
    """
    from certificates.models import Certificate
    from contributions.models import Bill, PaidRecord
    from payers.models import User

    def copy(row, **changes):
        fields = type(row)._meta.concrete_fields
        values = {field.attname: getattr(row, field.attname) for field in fields if not field.primary_key}
        return type(row)(**(values | changes))

    person = user.person
    twin = copy(person, id_number=f"BENCH{number:04d}")
    twin.save()
    twin_user = User(username=f"bench{number:02d}", person=twin)
    twin_user.set_unusable_password()
    twin_user.save()
    enrolments = {}
    for enrolment in person.enrolments.order_by("pk"):
        twin_enrolment = copy(
            enrolment, person_id=twin.pk, personnel_number=f"B{number:04d}{enrolment.personnel_number}"
        )
        twin_enrolment.save()
        enrolments[enrolment.pk] = twin_enrolment
    originals = list(Bill.objects.filter(enrolment__person=person).order_by("pk"))
    copies = Bill.objects.bulk_create(copy(b, enrolment_id=enrolments[b.enrolment_id].pk) for b in originals)
    bills = {original.pk: twin_bill.pk for original, twin_bill in zip(originals, copies, strict=True)}
    PaidRecord.objects.bulk_create(
        copy(
            record,
            enrolment_id=enrolments[record.enrolment_id].pk,
            bill_id=bills.get(record.bill_id),
            voucher_number=f"{record.voucher_number}-{number:02d}",
        )
        for record in PaidRecord.objects.filter(enrolment__person=person)
    )
    Certificate.objects.bulk_create(
        copy(
            certificate,
            applicant_id=twin_user.pk,
            person_id=twin.pk,
            verification_code=f"{certificate.verification_code}-{number:02d}",
        )
        for certificate in Certificate.objects.filter(applicant=user)
    )


def existing_data():
    """
    The measured users as (user, wizard state) pairs, 张灵活 first, from a database prepare_data() filled,
    and what each of them has (the same for all: checked).
    """
    import django

    django.setup()
    from certificates.models import Certificate
    from contributions.models import Bill, BillKind, PaidRecord
    from payers.models import User

    accounts, shapes = [], set()
    users = User.objects.select_related("person").filter(username__regex=rf"^({USERNAME}|bench[0-9]+)$")
    for user in sorted(users, key=lambda user: (user.username != USERNAME, user.username)):
        person = user.person
        enrolments = list(person.enrolments.order_by("pk").values_list("pk", flat=True))
        accounts.append((user, {"person": person.pk, "for_other": False, "enrolments": enrolments}))
        shapes.add(
            (
                Bill.objects.filter(enrolment__person=person, kind=BillKind.DAILY).count(),
                PaidRecord.objects.filter(enrolment__person=person).count(),
                Certificate.objects.filter(applicant=user).count(),
            )
        )
    if len(shapes) != 1:
        raise SystemExit(f"the measured users differ in what they have: {sorted(shapes)}")
    ((bills, records, certificates),) = shapes
    counts = {
        "users": len(accounts),
        "bills on step 3": bills,
        "paid records": records,
        "certificates": certificates,
    }
    return accounts, counts


def session_cookie(user, wizard):
    """
    The Cookie header of a browser logged in as `user`: the session as django.contrib.auth.login leaves
    it, with the idle check's last_seen, and the CSRF cookie the browser was given with the login form.
    Without the latter every page with a form would make a new CSRF secret and send a Set-Cookie on
    each request, which no browser makes it do.
    """
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.middleware.csrf import get_token
    from django.test import RequestFactory
    from django.utils import timezone

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["last_seen"] = int(time.time())
    session["pay_wizard"] = wizard
    session.set_expiry(timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE))
    session.save()
    request = RequestFactory().get("/")
    get_token(request)  # the CSRF secret, as CsrfViewMiddleware would set it in the cookie
    return (
        f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
        f"{settings.CSRF_COOKIE_NAME}={request.META['CSRF_COOKIE']}"
    )


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


def start_gunicorn(workers, options=()):
    log = GUNICORN_LOG.open("w")  # noqa: SIM115 (closed with the process)
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "portal.wsgi:application",
        f"--bind={HOST}:{PORT}",
        f"--workers={workers}",
        "--env=DJANGO_SETTINGS_MODULE=bench.settings",
        "--log-level=warning",
        *options,
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


def process_cpu(pids):
    """{pid: CPU seconds (user + system) used so far}; processes gone are left out."""
    return {pid: used for pid in pids if (used := procstat.cpu_seconds(pid)) is not None}


def server_processes(server):
    """gunicorn's master and workers, and the PostgreSQL backends of the benched database."""
    from django.db import connection

    workers = procstat.children(server.pid)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        backends = [pid for (pid,) in cursor.fetchall()]
    return [server.pid, *workers, *backends]


def measured_load(server, path, cookies, *, connections, duration):
    """
    load(), with the CPU time the server, its PostgreSQL backends and the load client used meanwhile:
    on a machine other work shares, CPU per request moves much less than requests/s and latency do.
    """
    before = process_cpu(server_processes(server))
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = load(path, cookies, connections=connections, duration=duration)
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = process_cpu(server_processes(server) + list(before))
    # A backend or worker started during the load counts from zero.
    result["server_cpu_s"] = sum(used - before.get(pid, 0.0) for pid, used in after.items())
    result["client_cpu_s"] = (client_after.ru_utime + client_after.ru_stime) - (
        client_before.ru_utime + client_before.ru_stime
    )
    return result


def load(path, cookies, *, connections, duration):
    """
    `connections` connections on `path` for `duration` seconds, each request with the next of `cookies`
    (a file of Cookie headers, one a line: one logged-in user each).
    """
    if shutil.which("wrk"):
        command = [
            "wrk",
            "--threads=2",
            f"--connections={connections}",
            f"--duration={duration}s",
            "--timeout=5s",
            "--latency",
            f"--script={ROOT / 'bench' / 'wrk_report.lua'}",
            BASE + path,
            "--",
            str(cookies),
        ]
    else:
        command = [
            sys.executable,
            str(ROOT / "bench" / "loadgen.py"),
            BASE + path,
            f"--connections={connections}",
            f"--duration={duration}",
            f"--cookies={cookies}",
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
        # Per request: gunicorn and PostgreSQL, and everything with the load client (wrk) as well.
        "server_cpu_ms": sum(part["server_cpu_s"] for part in slices) / requests * 1000,
        "cpu_ms": sum(part["server_cpu_s"] + part["client_cpu_s"] for part in slices) / requests * 1000,
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
    parser.add_argument(
        "--gunicorn-option",
        action="append",
        default=[],
        metavar="OPTION",
        help="passed to gunicorn, e.g. --gunicorn-option=--worker-class=gthread (repeatable)",
    )
    parser.add_argument("--page", help="only the pages whose name or path contains this (and the baseline)")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument(
        "--users",
        type=int,
        default=USERS,
        help="logged-in users the requests take in turn (not with --reuse)",
    )
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the data a run with --keep-database left (implies --keep-database)",
    )
    args = parser.parse_args()
    database_url = os.environ["DATABASE_URL"]
    args.keep_database = args.keep_database or args.reuse
    pages = [PAGES[0], *((n, p) for n, p in PAGES[1:] if not args.page or args.page in n or args.page in p)]

    worker_counts = [int(count) for count in args.workers.split(",")]

    if not args.reuse:
        recreate_database(database_url)
    server = None
    runs = []
    scratch = tempfile.mkdtemp(prefix="shebao-bench-pages-")
    try:
        accounts, counts = existing_data() if args.reuse else prepare_data(args.users)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server_version = cursor.fetchone()[0]
        print("data: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
        for workers in worker_counts:
            print(f"gunicorn {workers} workers:", flush=True)
            server = start_gunicorn(workers, args.gunicorn_option)
            # A session of each user's own, made again for each server (the idle timeout counts from it).
            cookies = Path(scratch) / "cookies.txt"
            cookies.write_text("".join(session_cookie(user, wizard) + "\n" for user, wizard in accounts))
            sizes = {}
            for _name, path in pages:
                for cookie in cookies.read_text().splitlines():
                    status, size = check(path, cookie)
                    if status != 200:
                        raise SystemExit(f"{path} answered {status} before the load, not 200: fix the set-up")
                    sizes.setdefault(path, size)
            # The pages in turn, args.passes times, duration / passes seconds each time: a load that comes
            # and goes on a shared machine then falls on every page alike, not on whichever ran then.
            slices = {path: [] for _, path in pages}
            for _ in range(args.passes):
                for _name, path in pages:
                    seconds = max(1, round(args.duration / args.passes))
                    slices[path].append(
                        measured_load(server, path, cookies, connections=args.connections, duration=seconds)
                    )
            results = []
            for name, path in pages:
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
                result["cpu_ratio"] = results[0]["cpu_ms"] / result["cpu_ms"]
            runs.append({"workers": workers, "pages": results})
        connection.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
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
    print(
        f"{'page':34} {'workers':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-200':>8} {'ratio':>6} "
        f"{'server CPU ms':>13} {'all CPU ms':>10} {'CPU ratio':>9}"
    )
    for r in sorted(
        (r for run in runs for r in run["pages"]), key=lambda r: PAGES.index((r["page"], r["path"]))
    ):
        bad = r["non200"] + r["errors"]
        print(
            f"{r['page']:34} {r['workers']:7d} {r['rps']:8.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {bad:8d} "
            f"{r['ratio']:6.2f} {r['server_cpu_ms']:13.2f} {r['cpu_ms']:10.2f} {r['cpu_ratio']:9.2f}"
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
