"""What /proc says of a process: its CPU time, for the benchmarks that divide it by
the work done."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time so far (all its threads), in clock ticks
    of 10 ms."""
    user, system = user_system(pid)
    return user + system


def user_system(pid: int) -> tuple[float, float]:
    """The process's user and system CPU seconds, apart (in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command: state is field 3; utime and stime are fields 14 and 15.
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def precise_cpu_seconds(pid: int) -> float:
    """The CPU time of the process's threads so far, to the nanosecond (schedstat's
    first field), for runs too short for clock ticks."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that just ended
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9
