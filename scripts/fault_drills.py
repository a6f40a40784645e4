#!/usr/bin/env python
"""
Fault drills (issue 10, item 6): what the CI tests (tests/test_database_outage.py,
tests/test_broker_outage.py) cannot do in-process — a real gunicorn server holding persistent database
connections, a real Celery worker, and, where you may, a real restart of PostgreSQL or Redis.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_drill REDIS_URL=redis://127.0.0.1:6379/5 \\
    PORTAL_VAR_DIR=/tmp/var_drill .venv/bin/python scripts/fault_drills.py [database] [broker]
        [--restart-postgres "sudo systemctl restart postgresql"]
        [--stop-redis "sudo systemctl stop redis" --start-redis "sudo systemctl start redis"]

The database named by DATABASE_URL is migrated and given the demo data: use a database of its own.

database — gunicorn (one sync worker, CONN_MAX_AGE=60) serves a page that reads the database; then every
    other backend of *that database* is terminated (pg_terminate_backend), or, with --restart-postgres,
    the whole server is restarted by your command; the same pages must answer again without a 500 and
    /healthz must say the database is ok.
broker — with Redis unreachable (a port where nothing listens, or --stop-redis): /healthz answers 503
    naming the broker, the home page 200, and a certificate application (赵记录 of the demo data) gets the
    downloads page with the request 制作中, in about the configured publish attempts. Then Redis is back
    (or --start-redis): a real worker and the `requeue_stuck_certificates` command (what the beat runs
    every five minutes) make it.

Prints what it measures; exits 1 on the first failed expectation. Without the --restart/--stop options it
restarts nothing: servers shared with others stay up.
"""

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def say(message):
    print(message, flush=True)


def fail(message):
    say(f"FAILED: {message}")
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)
    say(f"  ok: {message}")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(*args, env=None):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env or os.environ, check=True)


def get(url):
    """(status, body, seconds) of a GET; HTTP errors are answers too."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (our own server)
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    return status, body, time.monotonic() - started


class Gunicorn:
    def __init__(self, **env):
        self.port = free_port()
        self.env = {**os.environ, "CONN_MAX_AGE": "60", **env}

    def __enter__(self):
        command = [
            PYTHON,
            "-m",
            "gunicorn",
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        fail("gunicorn did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


def database_connection():
    import psycopg

    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)


def wait_for_postgres(timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            database_connection().close()
            return
        except Exception:  # noqa: BLE001 — not up yet, whatever the error
            time.sleep(0.5)
    fail("PostgreSQL did not come back")


def database_drill(args):
    say("== database: a backend killed (or the server restarted) between two requests")
    with Gunicorn() as server:
        pages = ["/verify/NOSUCHCERTIFICATE/", "/healthz"]
        for path in pages:
            status, _, seconds = get(server.url(path))
            say(f"  before: GET {path} → {status} in {seconds:.2f} s")
        with database_connection() as admin:
            backends = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        expect(backends >= 1, f"gunicorn holds {backends} persistent connection(s) to the database")
        if args.restart_postgres:
            say(f"  restarting PostgreSQL: {args.restart_postgres}")
            subprocess.run(shlex.split(args.restart_postgres), check=True)
            wait_for_postgres()
        else:
            with database_connection() as admin:
                killed = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()[0]
            say(f"  terminated {killed} backend(s) of this database")
        status, body, seconds = get(server.url(pages[0]))
        say(f"  after: GET {pages[0]} → {status} in {seconds:.2f} s")
        expect(
            status == 404 and "不是本系统开具的真实证明" in body, "the verification page answers, not a 500"
        )
        status, body, seconds = get(server.url("/healthz"))
        say(f"  after: GET /healthz → {status} {body.strip()} in {seconds:.2f} s")
        expect(status == 200 and json.loads(body)["database"] == "ok", "/healthz: the database is ok")


APPLY_WHILE_DOWN = """
import time
from django.test import Client
from django.utils import timezone
from certificates.models import Certificate
from payers.models import Person, User
from portal import demo

spec = next(p for p in demo.PEOPLE if p.key == "records")
client = Client(HTTP_HOST="localhost")
client.force_login(User.objects.get(person=Person.objects.get(id_number=spec.id_number)))
year = timezone.localdate().year - 2
query = {"target": "self", "period_from": f"{year}-01", "period_to": f"{year}-12", "insurance": "all"}
assert client.post("/certificates/", query).status_code == 302
started = time.monotonic()
response = client.post("/certificates/apply/")
seconds = time.monotonic() - started
page = client.get(response["Location"]).content.decode()
certificate = Certificate.objects.latest("created_at")
print(f"RESULT {response.status_code} {response['Location']} {seconds:.2f} {certificate.pk} "
      f"{certificate.status} {certificate.enqueue_pending} {'制作中' in page}")
"""


def broker_drill(args):
    say("== broker: Redis unreachable, then back")
    real_redis = os.environ.get("REDIS_URL")
    if not real_redis:
        fail("set REDIS_URL: the drill is about the Redis broker")
    if args.stop_redis:
        say(f"  stopping Redis: {args.stop_redis}")
        subprocess.run(shlex.split(args.stop_redis), check=True)
        down = dict(os.environ)
    else:
        down = {**os.environ, "REDIS_URL": UNREACHABLE_REDIS}
    with Gunicorn(**down) as server:
        status, body, seconds = get(server.url("/healthz"))
        say(f"  GET /healthz → {status} {body.strip()} in {seconds:.2f} s")
        expect(status == 503 and json.loads(body)["broker"].startswith("down"), "/healthz names the broker")
        status, _, seconds = get(server.url("/"))
        say(f"  GET / → {status} in {seconds:.2f} s")
        expect(status == 200, "the home page answers")
    shell = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", APPLY_WHILE_DOWN],
        cwd=ROOT,
        env=down,
        capture_output=True,
        text=True,
    )
    result = next((line for line in shell.stdout.splitlines() if line.startswith("RESULT")), None)
    if result is None:
        fail(f"the application did not run:\n{shell.stdout}\n{shell.stderr[-3000:]}")
    _, status, location, seconds, pk, state, pending, making_shown = result.split()
    say(
        f"  apply with Redis down: {status} → {location} in {seconds} s; certificate {pk}: {state}, enqueue_pending={pending}"
    )
    expect(
        status == "302" and location == "/certificates/downloads/", "the payer is sent to the downloads page"
    )
    expect(
        state == "making" and pending == "True" and making_shown == "True", "the request stays, shown 制作中"
    )

    if args.start_redis:
        say(f"  starting Redis: {args.start_redis}")
        subprocess.run(shlex.split(args.start_redis), check=True)
    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "--loglevel=warning"],
        cwd=ROOT,
        env={**os.environ, "CONN_MAX_AGE": "0"},
    )
    try:
        started = time.monotonic()
        manage("requeue_stuck_certificates")  # what the beat's next tick runs
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        sys.path.insert(0, str(ROOT))
        django.setup()
        from certificates.models import Certificate

        while time.monotonic() - started < 180:  # polling the worker, not waiting for time to pass
            certificate = Certificate.objects.get(pk=pk)
            if certificate.status != "making":
                break
            time.sleep(0.5)
        say(
            f"  after Redis is back: certificate {pk} {certificate.status} in {time.monotonic() - started:.1f} s"
        )
        expect(certificate.status == "ready" and not certificate.enqueue_pending, "the certificate is made")
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("drills", nargs="*", help="database, broker (default: both)")
    parser.add_argument(
        "--restart-postgres", help="a command restarting PostgreSQL (default: terminate backends)"
    )
    parser.add_argument("--stop-redis", help="a command stopping Redis (default: an unreachable port)")
    parser.add_argument("--start-redis", help="the command starting it again")
    args = parser.parse_args()
    args.drills = args.drills or ["database", "broker"]
    if not set(args.drills) <= {"database", "broker"}:
        parser.error("drills: database, broker")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        fail("set DATABASE_URL to a PostgreSQL database of the drill's own")
    manage("migrate", "--noinput")
    manage("seed_demo")
    for drill in args.drills:
        {"database": database_drill, "broker": broker_drill}[drill](args)
    say("all drills passed")


if __name__ == "__main__":
    main()
