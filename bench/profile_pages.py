"""
Per-request CPU time of the benched pages, in-process (Django's test client through the full middleware
stack, `bench.settings`), against the same data as bench/pages.py. CPU time of this process is robust
while the machine is shared; compare each page with the baseline measured the same way.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shebao_bench .venv/bin/python bench/profile_pages.py \
        [--requests 600] [--profile cprofile|pyinstrument] [--page records] [--reuse]

--reuse keeps a database that bench/pages.py --keep-database (or an earlier run of this script) left.
--profile pyinstrument needs `pip install pyinstrument` (not a project dependency); cprofile needs nothing.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages  # noqa: E402 (sets DJANGO_SETTINGS_MODULE and DATABASE_URL's default)
import procstat  # noqa: E402


def prepare(reuse):
    """The first of bench/pages.py's users and its wizard state: each of them has the same rows."""
    if not reuse:
        pages.recreate_database(os.environ["DATABASE_URL"])
        return pages.prepare_data()[0][0]
    return pages.existing_data()[0][0]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=600, help="timed requests per page")
    parser.add_argument("--profile", choices=["cprofile", "pyinstrument"])
    parser.add_argument("--page", help="only the pages whose name or path contains this")
    parser.add_argument("--reuse", action="store_true", help="use the data already in the database")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    user, wizard = prepare(args.reuse)
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies.load(pages.session_cookie(user, wizard))
    chosen = [(n, p) for n, p in pages.PAGES if not args.page or args.page in n or args.page in p]
    if pages.PAGES[0] not in chosen:
        chosen.insert(0, pages.PAGES[0])
    results = []

    def backend_cpu():
        """CPU seconds used so far by this connection's PostgreSQL backend (same machine)."""
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid  # psycopg 3, no query
        return procstat.cpu_seconds(pid)

    queries = {}
    for page, path in chosen:
        for _ in range(20):  # warm: templates compiled, connection open, translations loaded
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        seen = queries[page] = []

        def count(execute, sql, params, many, context, seen=seen):
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(path)

    if args.profile:
        for page, path in chosen[1:]:
            profile(client, page, path, args)

    # One request of each page in turn, so that a load from elsewhere falls on every page alike; per page
    # the mean CPU time of its requests without the slowest tenth (a collection, a preemption).
    cpu = {page: [] for page, _ in chosen}
    wall = {page: [] for page, _ in chosen}
    pg = dict.fromkeys(cpu, 0.0)
    for _ in range(args.requests):
        for page, path in chosen:
            pg_started = backend_cpu()
            c0, w0 = time.process_time(), time.perf_counter()
            client.get(path)
            cpu[page].append(time.process_time() - c0)
            wall[page].append(time.perf_counter() - w0)
            pg_used = backend_cpu()
            if pg_started is not None and pg_used is not None:
                pg[page] += pg_used - pg_started

    def trimmed_ms(values):
        kept = sorted(values)[: max(1, len(values) * 9 // 10)]
        return sum(kept) / len(kept) * 1000

    best = {
        page: (trimmed_ms(cpu[page]), pg[page] / args.requests * 1000, trimmed_ms(wall[page]))
        for page, _ in chosen
    }
    results = [(page, *best[page], len(queries[page])) for page, _ in chosen]
    baseline = results[0][1] + results[0][2]
    print(
        f"\n{'page':34} {'Python CPU ms':>13} {'PG CPU ms':>9} {'wall ms':>8} {'queries':>7} "
        f"{'CPU / baseline':>14} {'expected ratio':>14}"
    )
    for page, cpu_ms, pg_ms, wall_ms, count in results:
        share = (cpu_ms + pg_ms) / baseline
        print(
            f"{page:34} {cpu_ms:13.2f} {pg_ms:9.2f} {wall_ms:8.2f} {count:7d} {share:14.2f} {1 / share:14.2f}"
        )
    print(
        f"(per request, {args.requests} of each page in turn: Python CPU and wall time without the slowest tenth; "
        "PG CPU of this connection's PostgreSQL backend from /proc, over all requests)"
    )


def profile(client, page, path, args):
    if args.profile == "cprofile":
        profiler = cProfile.Profile()
        profiler.enable()
    else:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    for _ in range(args.requests):
        client.get(path)
    print(f"\n===== {page} ({path})")
    if args.profile == "cprofile":
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
        stats.print_stats(args.top)
        out.write("\n--- by own time\n")
        stats.sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())
    else:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=True))


if __name__ == "__main__":
    main()
