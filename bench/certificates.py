"""
Certificates end to end with real Celery workers, PostgreSQL and Redis, next to in-process baselines:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shebao_bench REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/certificates.py [--latency-runs 30] [--one-page 200] [--sixty 40]

Creates the database (dropped first if it exists, dropped again at the end unless --keep-database),
migrates, runs seed_demo and gives 赵记录 (demo person "records") 12 paid records in 2019-03 and 60 in
2019-04: a one-page certificate and a 60-row (two-page) one, applied for with
certificates.services.apply_for_certificate, the function the apply view calls (its row and records
committed, the task enqueued on commit).

1. Latency: one worker (`celery -A portal worker --pool=prefork --concurrency=1`), idle and warm; N times,
   apply for a one-page certificate and poll its row every 5 ms until 制作成功. Median and p95.
   The parts: the apply call, received → succeeded in the worker's log, the rows' created_at → finished_at.
2. Throughput: with 1 and then 2 worker processes (--concurrency), apply for a batch in one transaction
   (the tasks are enqueued when it commits) and time from the commit until every row is 制作成功. Right
   before each batch, with the worker idle, this process times portal.pdf.html_to_pdf on the same HTML:
   the ratio is the workers' rate to that one-process rate (a busy machine slows both alike). CPU time
   per certificate, the worker's master and pool processes from /proc (the master's share shown too),
   against html_to_pdf's CPU time here, is the figure a shared machine disturbs least (PostgreSQL's and
   Redis's CPU are not counted).
3. In-process baselines, no worker running, on the HTML of the same two certificates: bench/pdf_render.py's
   variants (portal.pdf.html_to_pdf, naive write_pdf() with system fonts, layout alone with render()),
   and certificates.services.make_certificate called directly (the task's whole work: queries, template,
   QR code, render, storage, row update). Renders go round-robin.

The tasks go to a queue of this run's own (`bench-certificates-<random>`), deleted at the end, so no
other worker or stale message interferes. Without REDIS_URL, redis://127.0.0.1:6379/0 is used.
--json writes the figures for bench/report.py.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shebao_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

from bench import procstat  # noqa: E402
from bench.pages import recreate_database  # noqa: E402

os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"  # bench.pages sets bench.settings
DATABASE_URL = os.environ["DATABASE_URL"]


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-runs", type=int, default=30)
    parser.add_argument("--one-page", type=int, default=200, help="one-page certificates per batch")
    parser.add_argument("--sixty", type=int, default=40, help="60-row certificates per batch")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker processes")
    parser.add_argument("--renders", type=int, default=20, help="in-process renders per variant")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--keep-database", action="store_true")
    return parser.parse_args()


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    if "PORTAL_VAR_DIR" not in os.environ:
        os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="shebao-certificates-")
    # The PDFs of the run (a few hundred) go to a folder of its own, removed at the end; workers inherit it.
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="shebao-certificates-media-")
    # Before django.setup() (bench.pdf_render runs it): a fresh database for this run.
    recreate_database(DATABASE_URL)

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402

from bench.pdf_render import percentile_95 as _percentile_95  # noqa: E402
from bench.pdf_render import variants  # noqa: E402
from certificates import services  # noqa: E402
from certificates.models import Certificate, CertificateStatus, InsuranceFilter  # noqa: E402
from contributions.models import PaidRecord  # noqa: E402
from payers.models import Person, User  # noqa: E402
from portal import demo, pdf  # noqa: E402
from portal.celery import app  # noqa: E402
from portal.tasks import report_health  # noqa: E402

QUEUE = f"bench-certificates-{uuid.uuid4().hex[:8]}"
TASK_LINE = re.compile(
    r"^(?P<time>\S+ \S+) INFO .* Task certificates\.tasks\.make_certificate\[(?P<id>[^]]+)\] "
    r"(?P<event>received|succeeded)"
)
WORKER_LOG = Path(tempfile.gettempdir()) / "shebao-bench-celery.log"
# (rows, month of the records). The certificate's rows wrap to four or five lines (authority, agency and
# 品目 names), so seven rows and the verification block fill one A4 page; sixty take six pages.
DOCUMENTS = {
    "one page (7 rows)": (7, datetime.date(2019, 3, 1)),
    "60 rows (6 pages)": (60, datetime.date(2019, 4, 1)),
}


def percentile_95(values):
    return _percentile_95(values) if len(values) > 1 else values[0]


def prepare_data():
    """migrate, seed_demo, and 赵记录's bench records. Returns apply_for_certificate's arguments per document."""
    call_command("migrate", verbosity=0, interactive=False)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)
    records_person = next(p for p in demo.PEOPLE if p.key == "records")
    person = Person.objects.get(id_number=records_person.id_number)
    applicant = User.objects.get(person=person)
    model = PaidRecord.objects.filter(enrolment__person=person).order_by("period_start").first()
    requests = {}
    for document, (rows, month) in DOCUMENTS.items():
        month_end = (month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
        PaidRecord.objects.bulk_create(
            PaidRecord(
                voucher_number=f"BENCH{month:%Y%m}{number:04d}",
                enrolment=model.enrolment,
                tax_authority=model.tax_authority,
                period_start=month,
                period_end=month_end,
                treasury_date=month_end + datetime.timedelta(days=15),
                amount=Decimal("596.80"),
            )
            for number in range(rows)
        )
        requests[document] = {
            "applicant": applicant,
            "person": person,
            "period_start": month,
            "period_end": month_end,
            "insurance": InsuranceFilter.ALL,
            "tax_authority": model.tax_authority,
        }
    return requests


def start_worker(concurrency):
    """A real worker (prefork, `concurrency` processes) on this run's queue: (process, seconds until it answered)."""
    log = WORKER_LOG.open("a")  # noqa: SIM115 (closed with the process)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "portal",
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        f"--queues={QUEUE}",
        "--loglevel=info",  # as docker-compose.yml and `make run` start it
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--hostname=bench-{uuid.uuid4().hex[:8]}@%h",
    ]
    started = time.perf_counter()
    worker = subprocess.Popen(command, cwd=ROOT, env=os.environ, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        report_health.apply_async(queue=QUEUE).get(timeout=120)
    except Exception:
        stop_worker(worker)
        raise SystemExit(f"the Celery worker did not answer; see {WORKER_LOG}") from None
    return worker, time.perf_counter() - started


def stop_worker(worker):
    worker.terminate()  # warm shutdown
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def worker_task_times(log_from):
    """
    Seconds from "received" to "succeeded" of each make_certificate in the worker's log after offset
    `log_from` (the log's timestamps: its "succeeded in" figure is masked by portal.logs' digit filter).
    """
    received, times = {}, []
    for line in WORKER_LOG.read_text()[log_from:].splitlines():
        found = TASK_LINE.match(line)
        if not found:
            continue
        stamp = datetime.datetime.strptime(found["time"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if found["event"] == "received":
            received[found["id"]] = stamp
        elif found["id"] in received:
            times.append(stamp - received.pop(found["id"]))
    return times


def tree_cpu_seconds(pid):
    """
    CPU seconds (user + system) used so far by process `pid`, the worker's master (it fetches, acks and
    hands out the tasks), and by its children, the pool (they run them): (master, pool), from /proc.
    """
    master = procstat.cpu_seconds(pid) or 0.0
    pool = sum(procstat.cpu_seconds(child) or 0.0 for child in procstat.children(pid))
    return master, pool


def wait_ready(ids, *, interval, timeout=600):
    """Poll until every certificate in `ids` is 制作成功; seconds since the call. A failure stops the run."""
    started = time.perf_counter()
    pending = set(ids)
    while pending:
        rows = Certificate.objects.filter(pk__in=pending).exclude(status=CertificateStatus.MAKING)
        for pk, status, reason in rows.values_list("pk", "status", "failure_reason"):
            if status != CertificateStatus.READY:
                raise SystemExit(f"certificate {pk} failed: {reason}")
            pending.discard(pk)
        if not pending:
            break
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"{len(pending)} certificates still 制作中 after {timeout} s; see {WORKER_LOG}")
        time.sleep(interval)
    return time.perf_counter() - started


def apply_batch(request, count):
    """`count` applications in one transaction: their tasks are enqueued together when it commits."""
    with transaction.atomic():
        return [services.apply_for_certificate(**request).pk for _ in range(count)]


def measure_latency(request, runs):
    """
    apply → 制作成功 for one certificate at a time with the worker idle. Seconds: the latencies as polled,
    the apply calls themselves, and created_at → finished_at of the rows (the worker's clock, no polling).
    """
    latencies, applies, rows = [], [], []
    for _ in range(runs):
        time.sleep(0.3)  # the worker is idle again
        started = time.perf_counter()
        certificate = services.apply_for_certificate(**request)
        applies.append(time.perf_counter() - started)
        wait_ready([certificate.pk], interval=0.005, timeout=60)
        latencies.append(time.perf_counter() - started)
        certificate.refresh_from_db(fields=["created_at", "finished_at"])
        rows.append((certificate.finished_at - certificate.created_at).total_seconds())
    return latencies, applies, rows


def measure_throughput(request, count, worker):
    """
    A batch of `count`, from the commit that enqueues them to the last 制作成功: (certificates per minute,
    seconds, the worker's CPU ms per certificate: its master and pool processes together, the master's).
    """
    with transaction.atomic():
        ids = [services.apply_for_certificate(**request).pk for _ in range(count)]
        master, pool = tree_cpu_seconds(worker.pid)
        started = time.perf_counter()
    # Every 0.1 s: the batch takes tens of seconds, and each poll is a query (here and in PostgreSQL) on the
    # cores the worker needs.
    elapsed = time.perf_counter() - started + wait_ready(ids, interval=0.1)
    master_after, pool_after = tree_cpu_seconds(worker.pid)
    master_ms = (master_after - master) * 1000 / count
    return count / elapsed * 60, elapsed, master_ms + (pool_after - pool) * 1000 / count, master_ms


def certificate_htmls(requests):
    """The HTML of one 制作成功 certificate per document, as the task renders it."""
    htmls = {}
    for document, request in requests.items():
        certificate = (
            Certificate.objects.filter(status=CertificateStatus.READY, period_start=request["period_start"])
            .order_by("pk")
            .first()
        )
        htmls[document] = render_to_string("certificates/pdf.html", services.pdf_context(certificate))
    return htmls


def render_ms(html, renders):
    """portal.pdf.html_to_pdf on `html` in this process (the worker idle): median wall ms, mean CPU ms."""
    timings = []
    cpu = time.process_time()
    for _ in range(renders):
        started = time.perf_counter()
        pdf.html_to_pdf(html)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000, (time.process_time() - cpu) * 1000 / renders


def in_process(requests, htmls, renders):
    """(wall s, CPU s) of each call per document and in-process variant, round-robin; and the page counts."""
    certificates = {
        document: Certificate.objects.filter(
            status=CertificateStatus.READY, period_start=request["period_start"]
        )
        .order_by("pk")
        .first()
        for document, request in requests.items()
    }
    runs = variants()
    layout = runs["layout only (render())"]
    pages = {document: len(layout(html).pages) for document, html in htmls.items()}

    def make(certificate):
        Certificate.objects.filter(pk=certificate.pk).update(status=CertificateStatus.MAKING)
        services.make_certificate(certificate.pk)

    calls = {"services.make_certificate (whole task)": make, **runs}
    arguments = {
        document: {name: html if name in runs else certificates[document] for name in calls}
        for document, html in htmls.items()
    }
    timings = {(document, name): [] for document in htmls for name in calls}
    for document in htmls:  # warm
        for name, call in calls.items():
            call(arguments[document][name])
    for _ in range(renders):
        for document in htmls:
            for name, call in calls.items():
                started, cpu = time.perf_counter(), time.process_time()
                call(arguments[document][name])
                timings[document, name].append((time.perf_counter() - started, time.process_time() - cpu))
    return timings, pages


def main(args):

    app.conf.task_default_queue = QUEUE
    WORKER_LOG.write_text("")
    report = {"redis": os.environ["REDIS_URL"].rsplit("@", 1)[-1], "throughput": [], "worker_start_s": {}}
    worker = None
    try:
        requests = prepare_data()
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            report["postgresql"] = cursor.fetchone()[0]
        one_page, sixty = requests.values()
        one_page_name = next(iter(requests))
        batches = dict(zip(requests, (args.one_page, args.sixty), strict=True))

        worker, report["worker_start_s"][1] = start_worker(1)
        wait_ready(apply_batch(one_page, 2) + apply_batch(sixty, 1), interval=0.02)  # warm
        htmls = certificate_htmls(requests)
        log_from = len(WORKER_LOG.read_text())
        latencies, applies, rows = measure_latency(one_page, args.latency_runs)
        tasks = worker_task_times(log_from)
        latency = report["latency"] = {
            "runs": args.latency_runs,
            "median_ms": statistics.median(latencies) * 1000,
            "p95_ms": percentile_95(latencies) * 1000,
            "apply_median_ms": statistics.median(applies) * 1000,
            "row_median_ms": statistics.median(rows) * 1000,
            "task_median_ms": statistics.median(tasks) * 1000 if tasks else None,
            "render_ms": render_ms(htmls[next(iter(htmls))], 10)[0],
        }
        print(
            f"apply → 制作成功, 1 idle worker, {args.latency_runs} runs: median {latency['median_ms']:.0f} ms, "
            f"p95 {latency['p95_ms']:.0f} ms. Medians of the parts: the apply call "
            f"{latency['apply_median_ms']:.0f} ms; received → succeeded in the worker "
            f"{latency['task_median_ms'] or 0:.0f} ms; created_at → finished_at {latency['row_median_ms']:.0f} ms; "
            f"html_to_pdf in this process {latency['render_ms']:.0f} ms",
            flush=True,
        )
        for concurrency in args.workers:
            if concurrency != 1:
                stop_worker(worker)
                worker, report["worker_start_s"][concurrency] = start_worker(concurrency)
                wait_ready(
                    apply_batch(one_page, 2 * concurrency) + apply_batch(sixty, concurrency), interval=0.02
                )
            for document, count in batches.items():
                # This process's render rate right before the batch, the worker idle: the ratio's base.
                reference, reference_cpu = render_ms(htmls[document], 10 if document == one_page_name else 4)
                per_minute, elapsed, cpu_ms, master_ms = measure_throughput(requests[document], count, worker)
                row = {
                    "document": document,
                    "workers": concurrency,
                    "count": count,
                    "seconds": elapsed,
                    "per_minute": per_minute,
                    "render_ms": reference,
                    "ratio": per_minute / (60_000 / reference),
                    "cpu_ms": cpu_ms,
                    "master_cpu_ms": master_ms,
                    "render_cpu_ms": reference_cpu,
                }
                report["throughput"].append(row)
                print(
                    f"  {concurrency} worker(s), {count} × {document}: {per_minute:.0f}/min ({elapsed:.1f} s), "
                    f"{row['ratio']:.2f} × this process's html_to_pdf rate just before; CPU per certificate "
                    f"{cpu_ms:.0f} ms in the worker ({master_ms:.1f} ms of it in the master), "
                    f"{reference_cpu:.0f} ms for html_to_pdf here",
                    flush=True,
                )
        stop_worker(worker)
        worker = None

        timings, pages = in_process(requests, htmls, args.renders)
        report["pages"] = pages
        report["in_process"] = []
        for (document, name), values in timings.items():
            wall = [seconds * 1000 for seconds, _ in values]
            report["in_process"].append(
                {
                    "document": document,
                    "variant": name,
                    "median_ms": statistics.median(wall),
                    "p95_ms": percentile_95(wall),
                    "per_minute": 60_000 / statistics.median(wall),
                    "cpu_ms": statistics.median(cpu * 1000 for _, cpu in values),
                }
            )
    finally:
        if worker is not None:
            stop_worker(worker)
        with app.connection_for_write() as broker:
            broker.default_channel.client.delete(QUEUE)
        pdf.close()
        shutil.rmtree(os.environ["MEDIA_ROOT"], ignore_errors=True)
        if not args.keep_database:
            connections.close_all()
            recreate_database(DATABASE_URL, drop_only=True)

    starts = ", ".join(f"{n} process(es) {s:.1f} s" for n, s in report["worker_start_s"].items())
    print(f"\nworker start → first task answered (font warm-up included): {starts}")
    print(f"in process, {args.renders} renders each (pages: {pages})")
    print(f"{'document':20} {'variant':40} {'median':>8} {'p95':>8} {'per min':>8} {'CPU ms':>7}")
    for row in report["in_process"]:
        print(
            f"{row['document']:20} {row['variant']:40} {row['median_ms']:8.1f} {row['p95_ms']:8.1f} "
            f"{row['per_minute']:8.0f} {row['cpu_ms']:7.1f}"
        )
    print(
        "\nworkers (ratio: to this process's html_to_pdf rate measured just before each batch; CPU ms per "
        "certificate: the worker's master and pool, and html_to_pdf in this process)"
    )
    print(
        f"{'document':20} {'workers':>8} {'count':>6} {'seconds':>8} {'per min':>8} {'ratio':>6} "
        f"{'CPU ms':>7} {'render':>7}"
    )
    for row in report["throughput"]:
        print(
            f"{row['document']:20} {row['workers']:8d} {row['count']:6d} {row['seconds']:8.1f} "
            f"{row['per_minute']:8.0f} {row['ratio']:6.2f} {row['cpu_ms']:7.0f} {row['render_cpu_ms']:7.0f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main(ARGS)
