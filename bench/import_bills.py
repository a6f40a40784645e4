"""
Bulk import of bills (应缴信息) against PostgreSQL `COPY` of the same file, in the same run:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shebao_bench .venv/bin/python bench/import_bills.py \
        [--rows 1000000] [--json out.json]

Recreates the database named by DATABASE_URL (dropped first if it exists; left empty and migrated at the
end), migrates, writes the files with bench/make_bills_csv.py (20 bills per person), imports the
enrolments (not timed), then times:

- baseline: `COPY … FROM STDIN (FORMAT csv, HEADER)` of bills.csv into an UNLOGGED table with the file's
  columns and types (psycopg `cursor.copy`, 1 MiB blocks), before and after the imports; the faster
  one is the baseline;
- ceiling, before the imports: the same COPY into a temporary staging table, then one
  `INSERT INTO contributions_bill … SELECT` joining it to the enrolments, categories and tax offices,
  in one transaction that is rolled back (the table is then vacuumed, so the imports find it as it was).
  That is what writing the bills costs the database (WAL, the table's indexes, foreign keys and checks)
  with no validation and no Python: no import can beat it, and the gap between it and the import is
  what checking every row costs;
- `manage.py import_bills bills.csv` (bench.settings: DEBUG off), in its own process, with its peak RSS
  and CPU time (its own; its PostgreSQL backend's is not in it);
- the same command again on the same file: every row unchanged, nothing written.

The two imports are timed in --rounds rounds (2 by default), the bills table emptied (TRUNCATE) between
them, and each figure is the faster round's: on a shared machine whose speed drifts during the run, a
single first import and re-import one after the other compare the machine's moments as much as the two.

Prints a table and, with --json, writes the figures for bench/report.py.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shebao_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import psycopg  # noqa: E402

from bench.pages import recreate_database  # noqa: E402

BILLS_PER_PERSON = 20
COPY_BLOCK = 1 << 20
COPY_TABLE = """
CREATE UNLOGGED TABLE bench_copy_bills (
    notice_number varchar(30) NOT NULL,
    personnel_number varchar(30) NOT NULL,
    category_code varchar(20) NOT NULL,
    period_start varchar(7) NOT NULL,
    period_end varchar(7) NOT NULL,
    amount numeric(12, 2) NOT NULL,
    contribution_type varchar(10) NOT NULL,
    kind varchar(10) NOT NULL,
    tax_office_code varchar(20) NOT NULL,
    payable_until date
)
"""


def run_measured(args, env):
    """
    Run manage.py `args`: (seconds, peak RSS MiB, stdout, CPU seconds), the RSS and CPU time being the
    child's own (ru_maxrss, ru_utime + ru_stime): on a shared machine its CPU time is steadier than its
    wall time (the PostgreSQL backend's own CPU time is not in it).
    """
    started = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=None if env.get("BENCH_VERBOSE") else subprocess.DEVNULL,
        text=True,
    )
    stdout = child.stdout.read()
    child.stdout.close()
    _, status, usage = os.wait4(child.pid, 0)  # the child's own rusage (Popen.wait would discard it)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed ({child.returncode}): {stdout}")
    return seconds, usage.ru_maxrss / 1024, stdout.strip(), usage.ru_utime + usage.ru_stime


def copy_file(connection, path):
    """COPY the CSV file into bench_copy_bills, in blocks of COPY_BLOCK bytes."""
    with (
        connection.cursor() as cursor,
        cursor.copy("COPY bench_copy_bills FROM STDIN (FORMAT csv, HEADER)") as copy,
        open(path, "rb") as file,
    ):
        while block := file.read(COPY_BLOCK):
            copy.write(block)


def copy_baseline(database_url, path):
    """Seconds to COPY the file into a fresh unlogged table (created and dropped outside the timing)."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_copy_bills")
        connection.execute(COPY_TABLE)
        started = time.perf_counter()
        copy_file(connection, path)
        seconds = time.perf_counter() - started
        rows = connection.execute("SELECT count(*) FROM bench_copy_bills").fetchone()[0]
        connection.execute("DROP TABLE bench_copy_bills")
    return seconds, rows


CEILING_STAGING = COPY_TABLE.replace("CREATE UNLOGGED TABLE", "CREATE TEMPORARY TABLE") + " ON COMMIT DROP"
CEILING_INSERT = """
INSERT INTO contributions_bill (
    notice_number, enrolment_id, period_start, period_end, amount, contribution_type, kind, tax_office_id,
    payable_until, status, created_at
)
SELECT
    s.notice_number, e.id, to_date(s.period_start, 'YYYY-MM'),
    (to_date(s.period_end, 'YYYY-MM') + interval '1 month - 1 day')::date, s.amount, s.contribution_type,
    s.kind, o.id, s.payable_until, 'unpaid', now()
FROM bench_copy_bills s
JOIN contributions_levycategory c ON c.code = s.category_code
JOIN contributions_enrolment e ON e.personnel_number = s.personnel_number AND e.category_id = c.id
JOIN contributions_taxoffice o ON o.code = s.tax_office_code
"""


def insert_ceiling(database_url, path):
    """
    (seconds, rows) to COPY the file into a staging table and INSERT … SELECT it into the real, still
    empty bills table in one transaction, then undone: rolled back (so the commit's last WAL flush is not
    timed), and the table vacuumed (not timed either) so that the imports start from a clean table.
    """
    with psycopg.connect(database_url) as connection:
        started = time.perf_counter()
        # The foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at COMMIT, which the rollback skips.
        connection.execute("SET CONSTRAINTS ALL IMMEDIATE")
        connection.execute(CEILING_STAGING)
        copy_file(connection, path)
        rows = connection.execute(CEILING_INSERT).rowcount
        seconds = time.perf_counter() - started
        connection.rollback()
        connection.autocommit = True
        connection.execute("VACUUM FULL contributions_bill")
    return seconds, rows


def empty_bills(database_url):
    """Back to before the first import: no bills (nothing else refers to them here), the table analysed."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("TRUNCATE contributions_bill CASCADE")
        connection.execute("VACUUM ANALYZE contributions_bill")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="bills in the file")
    parser.add_argument("--rounds", type=int, default=2, help="first import and re-import, this many times")
    parser.add_argument("--json", type=Path, help="write the figures here for bench/report.py")
    args = parser.parse_args()
    database_url = os.environ["DATABASE_URL"]
    if not database_url.startswith("postgres"):
        raise SystemExit("bench/import_bills.py needs PostgreSQL: set DATABASE_URL")

    recreate_database(database_url)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    run_measured(["migrate", "--noinput", "-v", "0"], env)
    with tempfile.TemporaryDirectory(prefix="shebao-import-") as scratch:
        folder = Path(scratch)
        persons = max(1, args.rows // BILLS_PER_PERSON)
        subprocess.run(  # noqa: S603
            [sys.executable, "bench/make_bills_csv.py", folder, "--persons", str(persons)]
            + ["--bills", str(args.rows)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        bills = folder / "bills.csv"
        size_mib = bills.stat().st_size / 1024 / 1024
        enrolments_s, *_ = run_measured(["import_enrolments", str(folder / "enrolments.csv")], env)
        print(
            f"{args.rows:,} bills ({size_mib:.0f} MiB), {persons:,} people; enrolments in {enrolments_s:.1f} s"
        )

        copy_before, copied = copy_baseline(database_url, bills)
        if copied != args.rows:
            raise SystemExit(f"COPY loaded {copied} rows, not {args.rows}")
        ceiling_s, inserted = insert_ceiling(database_url, bills)
        if inserted != args.rows:
            raise SystemExit(f"INSERT … SELECT wrote {inserted} rows, not {args.rows}")
        firsts, agains = [], []
        for round_number in range(args.rounds):
            if round_number:
                empty_bills(database_url)
            firsts.append(run_measured(["import_bills", str(bills), "--no-progress"], env))
            agains.append(run_measured(["import_bills", str(bills), "--no-progress"], env))
            print(
                f"round {round_number + 1}: first import {firsts[-1][0]:.1f} s, again {agains[-1][0]:.1f} s"
            )
        first, again = min(firsts), min(agains)  # the faster round's (seconds first in each)
        copy_after, _ = copy_baseline(database_url, bills)
    recreate_database(database_url)
    run_measured(["migrate", "--noinput", "-v", "0"], env)

    copy_s = min(copy_before, copy_after)
    copy_rps = args.rows / copy_s
    rows = [
        ("copy", "COPY into an unlogged table (baseline)", copy_s, None, None, ""),
        ("ceiling", "COPY + INSERT … SELECT, no checks (ceiling)", ceiling_s, None, None, ""),
        ("first", "import_bills, first import", first[0], first[1], first[3], first[2]),
        ("again", "import_bills, same file again", again[0], again[1], again[3], again[2]),
    ]
    print(f"COPY: {copy_before:.1f} s before the imports, {copy_after:.1f} s after; baseline = the faster")
    print(f"{'run':44} {'seconds':>8} {'rows/s':>9} {'ratio':>6} {'CPU s':>6} {'peak RSS':>9}")
    results = []
    for key, name, seconds, rss, cpu, output in rows:
        rps = args.rows / seconds
        rss_text = f"{rss:.0f} MiB" if rss is not None else "-"
        cpu_text = f"{cpu:.1f}" if cpu is not None else "-"
        print(f"{name:44} {seconds:8.1f} {rps:9.0f} {rps / copy_rps:6.2f} {cpu_text:>6} {rss_text:>9}")
        if output:
            print(f"    {output}")
        results.append(
            {
                "key": key,
                "run": name,
                "seconds": seconds,
                "rows_per_s": rps,
                "ratio": rps / copy_rps,
                "cpu_s": cpu,
                "rss_mib": rss,
            }
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": args.rows,
                    "persons": persons,
                    "file_mib": size_mib,
                    "copy_seconds": [copy_before, copy_after],
                    "rounds": [[one[0], other[0]] for one, other in zip(firsts, agains, strict=True)],
                    "runs": results,
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
