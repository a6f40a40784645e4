"""The deployment files: docker-compose.yml, the Dockerfile and .ci/run.

Read as text and YAML only (no Docker, no database): each test names something that, changed, would
break the deployment or CI.
"""

import json
import os
import re
import shlex
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
WEASYPRINT_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0")
CJK_FONT_PACKAGES = ("fonts-noto-cjk", "fonts-wqy-microhei")


@pytest.fixture(scope="module")
def compose():
    # safe_load resolves the x-app anchor and its `<<:` merge keys as Compose does.
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile():
    return dockerfile_instructions((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def ci_run():
    return (ROOT / ".ci" / "run").read_text()


def dockerfile_instructions(text):
    """[(INSTRUCTION, arguments)] with comments dropped and continuation lines joined."""
    instructions, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def instruction_args(dockerfile, keyword):
    return [arguments for name, arguments in dockerfile if name == keyword]


def exec_form(arguments):
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def command_of(service):
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def environment_of(service):
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def volume_mounts(service):
    """{source: target} for the service's volumes, short or long syntax."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source"), volume["target"]
        mounts[source] = target
    return mounts


def celery_app(command):
    """The -A/--app of a celery command line, or None."""
    for index, part in enumerate(command):
        if part in ("-A", "--app") and index + 1 < len(command):
            return command[index + 1]
        if part.startswith("--app="):
            return part.split("=", 1)[1]
    return None


def option_value(command, *names):
    for index, part in enumerate(command):
        if part in names and index + 1 < len(command):
            return command[index + 1]
        for name in names:
            if name.startswith("--") and part.startswith(name + "="):
                return part.split("=", 1)[1]
    return None


def runs_migrate(command):
    return "manage.py" in " ".join(command) and "migrate" in " ".join(command)


def is_gunicorn_of_portal(command):
    return any(Path(part).name == "gunicorn" for part in command[:3]) and any(
        part == "portal.wsgi:application" or part == "portal.wsgi" for part in command
    )


# docker-compose.yml ------------------------------------------------------------------------------


def test_compose_has_every_service(services):
    for name in ("web", "worker", "beat", "postgres", "redis"):
        assert name in services, f"docker-compose.yml has no {name} service"


def test_compose_has_no_obsolete_version_key(compose):
    assert "version" not in compose


def test_web_runs_gunicorn_on_the_portal_wsgi_app(services):
    command = command_of(services["web"])
    if command[:2] in (["sh", "-c"], ["/bin/sh", "-c"]):
        command = shlex.split(command[2].split("&&")[-1])
    assert is_gunicorn_of_portal(command), command
    assert option_value(command, "-b", "--bind") == "0.0.0.0:8000"


def test_migrations_run_before_web_starts(services):
    web = services["web"]
    command = " ".join(command_of(web))
    if "gunicorn" in command and runs_migrate(command_of(web)):
        assert command.index("migrate") < command.index("gunicorn")
        return
    depends_on = web.get("depends_on") or {}
    if isinstance(depends_on, list):  # the short syntax waits for nothing to complete
        depends_on = dict.fromkeys(depends_on, {})
    migrators = [
        name
        for name, condition in depends_on.items()
        if runs_migrate(command_of(services[name]))
        and condition.get("condition") == "service_completed_successfully"
    ]
    assert migrators, "web neither runs migrate first nor waits for a service that does"


def test_worker_is_a_celery_worker_of_the_portal_app(services):
    command = command_of(services["worker"])
    assert command[0] == "celery" or command[:3] == ["python", "-m", "celery"], command
    assert celery_app(command) == "portal"
    assert "worker" in command


def test_beat_is_celery_beat_of_the_portal_app_with_a_writable_schedule(services, dockerfile):
    beat = services["beat"]
    command = command_of(beat)
    assert command[0] == "celery" or command[:3] == ["python", "-m", "celery"], command
    assert celery_app(command) == "portal"
    assert "beat" in command
    # The image runs as a non-root user who can write only the var and media folders.
    schedule = option_value(command, "-s", "--schedule")
    var_dir = environment_of(beat).get("PORTAL_VAR_DIR", "/app/var")
    assert schedule and Path(schedule).parent == Path(var_dir), schedule
    chowns = [args for args in instruction_args(dockerfile, "RUN") if "chown" in args]
    assert any(var_dir in args for args in chowns), "the image does not make the var folder writable"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_share_the_image_and_production_settings(services, name):
    service = services[name]
    environment = environment_of(service)
    assert service.get("build") or service.get("image"), f"{name} has no image"
    assert environment.get("DJANGO_ENV") == "production"
    assert environment.get("SECRET_KEY"), f"{name} gets no SECRET_KEY"
    # Required from the host's environment, never a key written into the repository.
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?"), environment["SECRET_KEY"]
    assert environment.get("ALLOWED_HOSTS")
    for key in ("FIELD_ENCRYPTION_KEY", "FIELD_BLIND_INDEX_KEY"):
        assert environment.get(key, "").startswith(f"${{{key}:?"), f"{name} gets no {key} from the host"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_reach_postgres_with_its_credentials(services, name):
    database = urlparse(environment_of(services[name])["DATABASE_URL"])
    postgres = environment_of(services["postgres"])
    assert database.scheme in ("postgres", "postgresql")
    assert database.hostname == "postgres" and (database.port or 5432) == 5432
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == postgres["POSTGRES_PASSWORD"]
    assert database.path.lstrip("/") == postgres["POSTGRES_DB"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_reach_redis(services, name):
    redis = urlparse(environment_of(services[name])["REDIS_URL"])
    assert redis.scheme == "redis"
    assert redis.hostname == "redis" and (redis.port or 6379) == 6379


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_postgres_and_redis(services, name):
    depends_on = services[name].get("depends_on") or {}
    for dependency in ("postgres", "redis"):
        assert depends_on.get(dependency, {}).get("condition") == "service_healthy", (name, dependency)


@pytest.mark.parametrize("name", ["web", "worker"])
def test_media_volume_is_shared_at_media_root(compose, services, name):
    # The worker writes the certificate PDFs; web serves them: both must see the same folder.
    media_root = environment_of(services[name]).get("MEDIA_ROOT")
    assert media_root, f"{name} gets no MEDIA_ROOT"
    assert volume_mounts(services[name]).get("media") == media_root
    assert "media" in (compose.get("volumes") or {})


@pytest.mark.parametrize("name", ["postgres", "redis"])
def test_backing_services_have_healthchecks(services, name):
    healthcheck = services[name].get("healthcheck") or {}
    assert healthcheck.get("test") and not healthcheck.get("disable"), name
    probe = " ".join(healthcheck["test"]) if isinstance(healthcheck["test"], list) else healthcheck["test"]
    assert ("pg_isready" if name == "postgres" else "redis-cli ping") in probe


def test_postgres_keeps_its_data_in_a_named_volume(compose, services):
    mounts = volume_mounts(services["postgres"])
    assert mounts, "postgres data would be lost with the container"
    assert all(source in (compose.get("volumes") or {}) for source in mounts)


def test_web_is_published_and_checked_on_healthz(services):
    web = services["web"]
    assert any(str(port).endswith("8000:8000") for port in web.get("ports") or [])
    healthcheck = web.get("healthcheck") or {}
    assert not healthcheck.get("disable")
    assert "/healthz" in " ".join(healthcheck.get("test") or [])


# Dockerfile --------------------------------------------------------------------------------------


def test_dockerfile_base_image(dockerfile):
    assert instruction_args(dockerfile, "FROM")[0].split()[0] == "python:3.11-slim-bookworm"


def test_dockerfile_installs_weasyprint_libraries_and_cjk_fonts(dockerfile):
    installs = " ".join(args for args in instruction_args(dockerfile, "RUN") if "apt-get install" in args)
    for package in WEASYPRINT_PACKAGES + CJK_FONT_PACKAGES:
        assert re.search(rf"(^|\s){re.escape(package)}(\s|$)", installs), package


def test_dockerfile_installs_the_project(dockerfile):
    runs = instruction_args(dockerfile, "RUN")
    assert any(re.search(r"pip install (.* )?\.(\s|$)", args) for args in runs)


def test_dockerfile_collects_static_files_in_production_mode(dockerfile):
    collectstatic = [args for args in instruction_args(dockerfile, "RUN") if "collectstatic" in args]
    assert collectstatic and "--noinput" in collectstatic[0]
    # The manifest storage of production must write the manifest at build time, or every page 500s.
    environment = " ".join(instruction_args(dockerfile, "ENV"))
    position = dockerfile.index(("RUN", collectstatic[0]))
    assert any(name == "ENV" and "DJANGO_ENV=production" in args for name, args in dockerfile[:position]), (
        "DJANGO_ENV=production is set only after collectstatic"
    )
    # Dummy secrets for that one command, never baked into the image's environment.
    assert "SECRET_KEY=" in collectstatic[0]
    assert "SECRET_KEY" not in environment


def test_dockerfile_runs_as_a_non_root_user(dockerfile):
    users = instruction_args(dockerfile, "USER")
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_serves_gunicorn_on_port_8000_with_a_healthcheck(dockerfile):
    command = exec_form(instruction_args(dockerfile, "CMD")[-1])
    assert is_gunicorn_of_portal(command), command
    assert option_value(command, "-b", "--bind") == "0.0.0.0:8000"
    assert "8000" in instruction_args(dockerfile, "EXPOSE")[-1].split()
    assert "/healthz" in instruction_args(dockerfile, "HEALTHCHECK")[-1]


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for entry in (".venv", "var", ".git"):
        assert entry in ignored, entry


# .ci/run -----------------------------------------------------------------------------------------


def test_ci_run_is_an_executable_strict_bash_script(ci_run):
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
    lines = ci_run.splitlines()
    assert lines[0] in ("#!/usr/bin/env bash", "#!/bin/bash")
    assert "set -euo pipefail" in [line.strip() for line in lines[:20]]


def test_ci_run_points_the_tests_at_the_ci_services(ci_run):
    assert re.search(r"^export DATABASE_URL=postgres://postgres@127\.0\.0\.1:5432/test$", ci_run, re.M)
    assert re.search(r"^export REDIS_URL=redis://127\.0\.0\.1:6379/0$", ci_run, re.M)


def apt_installed_packages(script):
    """The package names on the script's `apt-get install` line, a bash array it expands included."""
    line = next(line for line in script.splitlines() if "apt-get install" in line)
    words = line.split()
    for array in re.findall(r'"\$\{(\w+)\[@\]\}"', line):
        body = re.search(rf"^{array}=\((.*?)^\)", script, re.M | re.S).group(1)
        words += [word for entry in body.splitlines() for word in entry.split("#")[0].split()]
    return {word for word in words if not word.startswith(("-", "$", '"'))}


def test_ci_run_installs_what_the_tests_need_and_runs_make_test(ci_run):
    installed = apt_installed_packages(ci_run)
    for package in ("make", "poppler-utils", "chromium") + WEASYPRINT_PACKAGES + CJK_FONT_PACKAGES:
        assert package in installed, package
    assert re.search(r"^make test$", ci_run, re.M)
