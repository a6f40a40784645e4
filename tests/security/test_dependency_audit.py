"""Issue 10, item 8 (dependencies) — CI fails on a known vulnerability in an installed dependency."""

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CI_RUN = (ROOT / ".ci" / "run").read_text()


def commands():
    return [
        line.strip() for line in CI_RUN.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def test_ci_runs_pip_audit_strictly_after_the_tests():
    lines = commands()
    audits = [index for index, line in enumerate(lines) if line.split()[0].endswith("pip-audit")]

    assert audits, "no pip-audit step in .ci/run"
    assert "--strict" in shlex.split(lines[audits[-1]])
    assert lines.index("make test") < audits[-1]
    # A finding fails the whole run.
    assert CI_RUN.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in CI_RUN


def test_every_ignored_vulnerability_has_its_reason_in_docs():
    ignored = re.findall(r"--ignore-vuln[ =](\S+)", CI_RUN)
    documented = (ROOT / "docs" / "security.md").read_text()

    assert [vuln for vuln in ignored if vuln not in documented] == []
