"""
`make bench`: runs bench/pdf_render.py, bench/pages.py and bench/certificates.py (Celery workers on Redis:
REDIS_URL, default redis://127.0.0.1:6379/0), bench/import_bills.py and bench/batch_debit.py (1,000,000 bills
each by default: --import-rows, --debit-bills), prints their tables and writes
docs/performance.md with the machine's description and the issue's targets, met or not.

    .venv/bin/python bench/report.py [--pdf-renders 30] [--page-seconds 15]
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
PORTAL_PDF = "portal.pdf.html_to_pdf"


def machine():
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line), "?"
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kib = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal:")))
    return {
        "CPU": model,
        "cores": str(os.cpu_count()),
        "RAM": f"{total_kib / 1024 / 1024:.1f} GiB",
        "OS": platform.platform(),
        "Python": platform.python_version(),
    }


def reference_loop_ms():
    """
    CPU time of a fixed pure-Python loop, the best of five: how fast the machine's cores are at the time.
    Figures of runs on different days compare through it (the same code has measured nearly twice as
    slow on a slow day); the ratios to in-run baselines need no such help.
    """
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        total = 0
        for number in range(2_000_000):
            total += number % 7
        best = min(best, time.process_time() - started)
    return best * 1000


def run(command):
    print("$ " + " ".join(str(part) for part in command), flush=True)
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)  # noqa: S603
    sys.stdout.write(completed.stdout)
    if completed.returncode:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"{command[1]} failed ({completed.returncode})")
    return completed.stdout


def parse_pdf(output):
    """Rows of pdf_render.py's fixed-width table: (document, variant, median, p95, size)."""
    rows = []
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("document ")) + 1
    for line in lines[start:]:
        if len(line) < 52:
            continue
        median, p95, *size = line[51:].split()
        rows.append((line[:20].strip(), line[21:51].strip(), float(median), float(p95), " ".join(size)))
    return rows


def certificates_section(c):
    """docs/performance.md's section for bench/certificates.py's figures."""
    one_page = next(iter(c["pages"]))
    lat = c["latency"]
    out = ["", "## Certificates end to end", ""]
    out.append(
        "`bench/certificates.py`: real `celery -A portal worker --pool=prefork -l info` processes on PostgreSQL "
        f"and Redis ({c['redis']}); 赵记录 applies through `certificates.services.apply_for_certificate` (what "
        "the 申请 view calls: rows committed, the task enqueued on commit) and the bench polls the row until "
        f"制作成功. Documents: {', '.join(f'{d}: {n} A4 page' + 's' * (n > 1) for d, n in c['pages'].items())}. The machine "
        "is shared by the worker(s), PostgreSQL, Redis and the bench process; each ratio is to this process's "
        "`html_to_pdf` rate on the same HTML measured just before, so a busy machine slows both alike."
    )
    out += [
        "",
        f"Latency, one idle worker (concurrency 1), {lat['runs']} requests of a {one_page} certificate:",
        "",
    ]
    out += ["| | median ms |", "|---|---:|"]
    out += [
        f"| 申请 → 制作成功 (polled every 5 ms) | {lat['median_ms']:.0f} (p95 {lat['p95_ms']:.0f}) |",
        f"| the apply call (records query, rows, commit, enqueue) | {lat['apply_median_ms']:.0f} |",
        f"| received → succeeded in the worker's log | {lat['task_median_ms'] or 0:.0f} |",
        f"| the row's created_at → finished_at | {lat['row_median_ms']:.0f} |",
        f"| `html_to_pdf` of the same HTML in the bench process | {lat['render_ms']:.0f} |",
    ]
    starts = ", ".join(f"{n} process(es) {s:.1f} s" for n, s in c["worker_start_s"].items())
    out += ["", f"Worker start → first task answered, fonts loaded: {starts}.", ""]
    out += [
        "Throughput: a batch applied in one transaction, timed from its commit to the last 制作成功. CPU ms per "
        "certificate: the worker's master and pool processes (from /proc; PostgreSQL and Redis not counted), "
        "next to `html_to_pdf`'s in the bench process; it is the figure a shared machine disturbs least.",
        "",
        "| document | worker processes | certificates | seconds | per minute | ratio to one in-process render "
        "| worker CPU ms per certificate | `html_to_pdf` CPU ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    out += [
        f"| {r['document']} | {r['workers']} | {r['count']} | {r['seconds']:.1f} | {r['per_minute']:.0f} | "
        f"{r['ratio']:.2f} | {r['cpu_ms']:.0f} | {r['render_cpu_ms']:.0f} |"
        for r in c["throughput"]
    ]
    out += [
        "",
        "In process, same HTML, round-robin (baselines: naive `write_pdf()` with a system CJK font; layout "
        "alone with `render()`, bench/pdf_render.py's variants):",
        "",
        "| document | variant | median ms | p95 ms | per minute | CPU ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    out += [
        f"| {r['document']} | {r['variant']} | {r['median_ms']:.1f} | {r['p95_ms']:.1f} | {r['per_minute']:.0f} | "
        f"{r['cpu_ms']:.1f} |"
        for r in c["in_process"]
    ]
    return out


def certificate_targets(c):
    one_page = next(iter(c["pages"]))
    median = c["latency"]["median_ms"]
    two = next((r for r in c["throughput"] if r["workers"] == 2 and r["document"] == one_page), None)
    rows = [f"| median 申请 → 制作成功 ≤ 0.5 s | {median:.0f} ms | {verdict(median <= 500)} |"]
    if two:
        rows.append(
            f"| 2 workers ≥ 600 one-page certificates per minute | {two['per_minute']:.0f}/min "
            f"({two['ratio']:.2f} × one in-process render) | {verdict(two['per_minute'] >= 600)} |"
        )
    return rows


def verdict(met):
    return "**met**" if met else "**not met**"


def optional(value, spec=".1f"):
    """A figure, or "-" where the bench could not measure it."""
    return "-" if value is None else format(value, spec)


def rounds_text(imports):
    """How the import figures were taken, with each round's seconds."""
    rounds = imports["rounds"]
    each = "first import and re-import " + ", then ".join(
        f"{first:.1f} s and {again:.1f} s" for first, again in rounds
    )
    if len(rounds) == 1:
        return f"one round ({each})."
    return (
        f"{len(rounds)} rounds, the bills table emptied between them ({each}), each figure the faster "
        "round's: the machine's speed drifts during a run."
    )


def bulk_sections(imports, debit):
    """docs/performance.md's sections for bench/import_bills.py and bench/batch_debit.py."""
    runs = {r["key"]: r for r in imports["runs"]}
    baseline, ceiling, first, again = runs["copy"], runs["ceiling"], runs["first"], runs["again"]
    out = ["", "## Bulk import of bills", ""]
    out.append(
        f"`bench/import_bills.py`: {imports['rows']:,} bills ({imports['file_mib']:.0f} MiB, "
        f"{imports['persons']:,} people, written by `bench/make_bills_csv.py`) through `manage.py import_bills` "
        "in its own process (`bench.settings`), then the same file again (every row unchanged, nothing "
        "written); "
        + rounds_text(imports)
        + " Baseline, same run, same file: `COPY … FROM STDIN (FORMAT csv, HEADER)` into an UNLOGGED "
        "table with the file's columns (psycopg `cursor.copy`), timed before and after the imports "
        f"({', '.join(f'{s:.1f} s' for s in imports['copy_seconds'])}; the faster is the baseline). The "
        "import checks every row (cells, codes, keys repeated in the file, enrolments, paid bills, bills "
        "being paid) and writes in one transaction, rolled back if any row is bad, into indexed tables with "
        "foreign keys."
    )
    out.append(
        "\nCeiling, same run, before the imports: the same COPY into a temporary staging table, then one "
        "`INSERT INTO contributions_bill … SELECT` joining it to the enrolments, levy categories and tax "
        "offices: the real table with its indexes, foreign keys and checks, no validation and no Python, "
        "rolled back afterwards. No import can be faster than that; it is what the database's writing costs."
    )
    out += [
        "",
        "| run | seconds | rows/s | ratio to COPY | process CPU s | peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in imports["runs"]:
        rss = "-" if r["rss_mib"] is None else f"{r['rss_mib']:.0f} MiB"
        out.append(
            f"| {r['run']} | {r['seconds']:.1f} | {r['rows_per_s']:,.0f} | {r['ratio']:.3f} | "
            f"{optional(r['cpu_s'])} | {rss} |"
        )
    gap = first["seconds"] - baseline["seconds"]
    writing = ceiling["seconds"] - baseline["seconds"]
    out.append(
        f"\nOf the first import's {gap:.1f} s over COPY, the database's writing into the real table (the "
        f"ceiling over COPY) accounts for {writing:.1f} s ({writing / gap:.0%}); the rest, "
        f"{gap - writing:.1f} s, is the import's own work: reading and checking every row (its Python, and "
        "the lookups it asks the database for). The ceiling reaches "
        f"{ceiling['ratio']:.2f} of COPY's rows/s. Re-import / first import time: "
        f"{again['seconds'] / first['seconds']:.2f}."
    )
    out += ["", "## Batch auto-debit", ""]
    counts = ", ".join(f"{name} {count:,}" for name, count in debit["counts"].items())
    out.append(
        f"`bench/batch_debit.py`: {debit['bills']:,} payable daily bills of {debit['mandates']:,} flexible "
        f"workers (two bills under one notice each), each with an active mandate and a sandbox bank account, "
        f"{debit['short_of_funds']:.0%} of them short of funds; `manage.py run_batch_debit` in its own process "
        f"(`bench.settings`). Its summary: “{debit['summary']}”. Written and checked after the run: {counts}."
    )
    out[-1] += (
        " On PostgreSQL the run debits with two threads over disjoint shares of the mandates, each on its own "
        "connection, so the batch's Python and PostgreSQL's work overlap. CPU s is the batch process's own "
        "(both threads); PostgreSQL CPU s its backends' (from /proc): steadier than the wall time while other "
        "work shares the machine."
    )
    out += [
        "",
        "| run | seconds | bills/s | mandates/s | CPU s | PostgreSQL CPU s | bills per CPU s | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    out.append(
        f"| run_batch_debit | {debit['seconds']:.1f} | {debit['bills_per_s']:,.0f} | "
        f"{debit['mandates_per_s']:,.0f} | {debit['cpu_seconds']:.1f} | {optional(debit['postgresql_cpu_seconds'])} | "
        f"{debit['bills_per_cpu_s']:,.0f} | {debit['rss_mib']:.0f} MiB |"
    )
    return out


def bulk_targets(imports, debit):
    runs = {r["key"]: r for r in imports["runs"]}
    first, again, ceiling = runs["first"], runs["again"], runs["ceiling"]
    return [
        f"| bulk import ≥ 0.3 of COPY's rows/s | {first['ratio']:.3f} (ceiling without checks: "
        f"{ceiling['ratio']:.2f}) | {verdict(first['ratio'] >= 0.3)} |",
        f"| re-import no slower than the first import | {again['seconds']:.1f} s vs {first['seconds']:.1f} s | "
        f"{verdict(again['seconds'] <= first['seconds'])} |",
        f"| batch auto-debit ≥ 5,000 bills/s | {debit['bills_per_s']:,.0f} bills/s | "
        f"{verdict(debit['bills_per_s'] >= 5000)} |",
        f"| batch auto-debit peak RSS ≤ 300 MB | {debit['rss_mib']:.0f} MiB | {verdict(debit['rss_mib'] * 1.048576 <= 300)} |",
    ]


def little_law(rows, pages):
    """Why the p99 target depends on the requests/s a page reaches, from this run's figures."""
    connections = pages["connections"]
    served = [r for r in rows if r.get("workers", pages["workers"]) == pages["workers"]]
    means = "; ".join(
        f"{r['page']}: {connections} ÷ {r['rps']:.0f} = {connections * 1000 / r['rps']:.0f} ms"
        for r in served
    )
    baseline_mean = connections * 1000 / served[0]["rps"]  # rows are sorted with the baseline first
    if baseline_mean > 100:
        verdict_text = (
            "The bare baseline's own mean is above 100 ms, so no Django page served this way can meet "
            f"the target on this machine: it needs more cores per {connections} connections (the 1 → 2 worker rows "
            "show how the figures follow the processes)."
        )
    else:
        verdict_text = "A page below that rate cannot meet it, whatever its tail."
    return (
        f"**p99 at {connections} connections.** wrk keeps every connection busy, so by Little's law the "
        f"mean time a request spends queued and served is {connections} ÷ requests per second, and a p99 "
        f"of 100 ms needs more than {connections * 10} requests/s from the page itself, on the cores "
        f"that also run wrk and PostgreSQL. Means at {pages['workers']} workers: {means}. {verdict_text}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pdf-renders", type=int, default=30)
    parser.add_argument("--page-seconds", type=int, default=15)
    parser.add_argument("--import-rows", type=int, default=1_000_000, help="bills in the import bench's file")
    parser.add_argument(
        "--debit-bills", type=int, default=1_000_000, help="payable bills in the batch-debit bench"
    )
    args = parser.parse_args()
    started = datetime.datetime.now().astimezone()
    loop_before = reference_loop_ms()

    with tempfile.TemporaryDirectory(prefix="shebao-bench-") as scratch:
        pdf_env = {**os.environ, "PORTAL_VAR_DIR": scratch}
        print("$ bench/pdf_render.py", flush=True)
        pdf_run = subprocess.run(  # noqa: S603
            [sys.executable, "bench/pdf_render.py", "--renders", str(args.pdf_renders)],
            cwd=ROOT,
            env=pdf_env,
            capture_output=True,
            text=True,
        )
        sys.stdout.write(pdf_run.stdout)
        if pdf_run.returncode:
            sys.stderr.write(pdf_run.stderr)
            raise SystemExit("bench/pdf_render.py failed")
        pdf_rows = parse_pdf(pdf_run.stdout)
        pages_json = Path(scratch) / "pages.json"
        run([sys.executable, "bench/pages.py", "--duration", str(args.page_seconds), "--json", pages_json])
        pages = json.loads(pages_json.read_text())
        certificates_json = Path(scratch) / "certificates.json"
        run([sys.executable, "bench/certificates.py", "--json", certificates_json])
        certificates = json.loads(certificates_json.read_text())
        imports_json = Path(scratch) / "imports.json"
        run(
            [sys.executable, "bench/import_bills.py", "--rows", str(args.import_rows), "--json", imports_json]
        )
        imports = json.loads(imports_json.read_text())
        debit_json = Path(scratch) / "debit.json"
        run([sys.executable, "bench/batch_debit.py", "--bills", str(args.debit_bills), "--json", debit_json])
        debit = json.loads(debit_json.read_text())

    described = machine() | {
        "PostgreSQL": pages["postgresql"],
        "reference loop": f"{loop_before:.0f} ms before the run, {reference_loop_ms():.0f} ms after "
        "(CPU time of a fixed pure-Python loop, `reference_loop_ms()` in bench/report.py: lower is faster)",
    }
    out = ["# Performance", ""]
    out.append(
        f"Measured by `make bench` on {started:%Y-%m-%d %H:%M %Z} (issue 9). Ratios are against a baseline "
        "measured in the same run; no timed assertion is in the tests. Generated by `bench/report.py`: "
        "re-run `make bench` rather than editing the figures."
    )
    out += ["", "## Machine", "", "| | |", "|---|---|"]
    out += [f"| {key} | {value} |" for key, value in described.items()]

    out += ["", "## Pages", ""]
    each = {name: count for name, count in pages["data"].items() if name != "users"}
    users = pages["data"]["users"]
    data = ", ".join(f"{name} {count}" for name, count in each.items())
    worker_counts = " and ".join(str(run["workers"]) for run in pages.get("runs", [pages]))
    out.append(
        f"gunicorn with {worker_counts} sync workers on 127.0.0.1, `bench.settings` (DEBUG off, PostgreSQL, "
        f"persistent connections); load from a separate process ({pages['client']}), "
        f"{pages['connections']} connections, {pages['duration']} s per page "
        f"({pages.get('passes', 1)} passes over the pages in turn; p50 the passes' median, p99 the worst), "
        f"{users} logged-in users with a session each, every request taking the next user's (the demo user "
        f"张灵活 and {users - 1} copies of her, each with: {data}). Baseline: `bench/baseline/`, a bare Django view rendering a "
        "20-row template (20 主管税务科所 from the same database) in the same server. The load client "
        "shares the machine's cores with gunicorn and PostgreSQL. Each ratio is to the baseline served by "
        "the same number of workers. `bench/profile_pages.py` profiles the same pages in-process (CPU time "
        "per request of Python and of PostgreSQL, robust while the machine is shared)."
    )
    out += [
        "",
        "| page | URL | workers | req/s | p50 ms | p99 ms | non-200 | ratio to baseline | server CPU ms "
        "| CPU ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [r for run in pages.get("runs", [pages]) for r in run["pages"]]
    rows.sort(key=lambda r: [p["path"] for p in pages["pages"]].index(r["path"]))  # by page, then workers
    for r in rows:
        bad = r["non200"] + r["errors"]
        out.append(
            f"| {r['page']} | `{r['path']}` | {r.get('workers', pages['workers'])} | {r['rps']:.0f} | "
            f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {bad} | {r['ratio']:.2f} | {r['server_cpu_ms']:.2f} | "
            f"{r['cpu_ratio']:.2f} |"
        )
    out += [
        "",
        "Server CPU ms: CPU time per request of gunicorn and its PostgreSQL backends (from /proc); CPU "
        "ratio: the baseline's CPU time per request (wrk's included) over the page's. Both move far less "
        "than req/s and p99 when other work shares the machine.",
        "",
        little_law(rows, pages),
    ]

    out += ["", "## Certificate PDF rendering", ""]
    out.append(
        f"`bench/pdf_render.py`, warm process, {args.pdf_renders} renders of each document and variant, "
        "round-robin. Baselines: naive WeasyPrint `write_pdf()` with system fonts, and layout alone "
        "(`render()`) as the ceiling."
    )
    out += ["", "| document | variant | median ms | p95 ms | PDF size |", "|---|---|---:|---:|---:|"]
    out += [f"| {d} | {v} | {m:.1f} | {p:.1f} | {s} |" for d, v, m, p, s in pdf_rows]

    out += certificates_section(certificates)
    out += bulk_sections(imports, debit)

    page_rows = pages["pages"][1:]
    one_page = next((m for d, v, m, _, _ in pdf_rows if v == PORTAL_PDF and d.startswith("one page")), None)
    out += ["", "## Targets (issue 9)", "", "| target | measured | |", "|---|---|---|"]
    for r in page_rows:
        out.append(
            f"| {r['page']}: ≥ 0.5 of baseline req/s ({pages['workers']} workers) | {r['ratio']:.2f} | "
            f"{verdict(r['ratio'] >= 0.5)} |"
        )
        out.append(
            f"| {r['page']}: p99 ≤ 100 ms at 32 connections | {r['p99_ms']:.1f} ms | {verdict(r['p99_ms'] <= 100)} |"
        )
    if one_page is not None:
        out.append(
            f"| one-page certificate render ≤ 150 ms median | {one_page:.1f} ms | {verdict(one_page <= 150)} |"
        )
    out += certificate_targets(certificates)
    out += bulk_targets(imports, debit)

    out += [
        "",
        "## What is not measured yet",
        "",
        "- Bulk import: the enrolment import (`import_enrolments`) at volume; bills only are measured above.",
        "- Batch auto-debit: a resumed run (mandates whose payment exists go one by one) and a run where many "
        "bills changed since their page was read (settled one by one) are correct (tests) but not timed.",
        "",
    ]
    out += ["", (ROOT / "bench" / "scaling.md").read_text().rstrip(), ""]
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text("\n".join(out))
    print(f"\nwrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
