"""
CPU time of processes on this machine, from /proc (Linux): what the benches print next to wall time,
since it moves far less when other work shares the machine.
"""

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def stat(pid):
    """(parent pid, CPU seconds used so far: user + system) of process `pid`; None if it is gone or elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_seconds(pid):
    """CPU seconds used so far by process `pid`, or None if it is gone (or PostgreSQL runs elsewhere)."""
    found = stat(pid)
    return None if found is None else found[1]


def children(pid):
    """The pids of process `pid`'s children."""
    pids = (int(path.name) for path in Path("/proc").iterdir() if path.name.isdigit())
    return [child for child in pids if (found := stat(child)) is not None and found[0] == pid]
