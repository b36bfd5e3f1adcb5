"""What the benchmark asks of the operating system: open files, CPU pinning, CPU time and memory of
a process (from ``/proc``), and a description of the machine for the report."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
import sys
from importlib import metadata

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
PACKAGES = ("uvicorn", "websockets", "starlette", "msgspec", "redis",
            "python-socketio", "python-engineio", "py-spy", "matplotlib")


def raise_open_files() -> int:
    """Raise this process's open-file limit to its hard limit: each loopback connection costs a
    descriptor at both ends, so 10,000 participants need 20,000 across server and load."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def plan_cpus(pin: bool) -> tuple[list[int] | None, list[int] | None]:
    """(server CPUs, load CPUs): the first CPU for the server, the rest for load, when there are
    at least two and pinning is wanted; else no pinning."""
    available = cpus()
    if not pin or len(available) < 2:
        return None, None
    return available[:1], available[1:]


def pin(pid: int, wanted: list[int]) -> None:
    os.sched_setaffinity(pid, set(wanted))


def pin_prefix(wanted: list[int] | None) -> list[str]:
    """A ``taskset`` prefix for a command line, where ``taskset`` exists."""
    if not wanted or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", ",".join(map(str, wanted))]


def schedstat(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) summed over a process's threads,
    from ``/proc/<pid>/task/*/schedstat`` (nanoseconds, so short phases measure well; the tick
    counts of ``/proc/<pid>/stat`` are 10 ms coarse). The wait shows when other work on the
    machine took the CPU the server was pinned to."""
    ran = waited = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0, 0.0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                fields = f.read().split()
        except OSError:
            continue
        ran += int(fields[0])
        waited += int(fields[1])
    return ran / 1e9, waited / 1e9


def cpu_seconds(pid: int) -> float:
    """CPU time of a process: from schedstat, else user plus system ticks of ``/proc/<pid>/stat``
    (utime and stime are fields 14 and 15, man proc)."""
    ran, _ = schedstat(pid)
    if ran:
        return ran
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def wait_seconds(pid: int) -> float:
    return schedstat(pid)[1]


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:
        return 0


def send_queue_bytes(port: int) -> int:
    """Bytes written by the server on ``port`` that the kernel still holds for slow readers:
    the sum of ``tx_queue`` over its established sockets in ``/proc/net/tcp``. It is memory the
    server's process RSS does not show."""
    total = 0
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] == "01" and int(fields[1].rpartition(":")[2], 16) == port:
                    total += int(fields[4].partition(":")[0], 16)
    except OSError:
        return 0
    return total


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def revision(root: str) -> str:
    """The commit the server code was at, with ``+dirty`` when ``server/`` had local changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "server"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def machine() -> dict[str, object]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        kernel = subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout.strip()
    except OSError:
        kernel = platform.release()
    return {
        "nproc": os.cpu_count(),
        "cpus_available": cpus(),
        "cpu_model": cpu_model(),
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * PAGE / 2**30, 1),
        "kernel": kernel,
        "python": sys.version.split()[0],
        "packages": versions,
        "taskset": shutil.which("taskset") is not None,
        "load_average_at_start": load_average(),
    }
