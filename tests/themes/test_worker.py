"""The themes worker process never outlives the server it works for, even when the server dies
before the worker has finished starting (its parent is then already init, pid 1)."""

from __future__ import annotations

import subprocess
import sys
import time

GONE_SERVER = 2**22 + 1
"""Above the kernel's default pid_max (4,194,304): never a live process's pid."""


def test_worker_exits_when_its_server_is_not_its_parent() -> None:
    started = time.monotonic()
    child = subprocess.run(
        [sys.executable, "-c",
         "import threading, time\n"
         "from attune.themes import worker\n"
         f"threading.Thread(target=worker._orphaned, args=({GONE_SERVER},)).start()\n"
         "time.sleep(60)\n"],
        timeout=30, capture_output=True, text=True,
    )
    assert child.returncode == 0, child.stderr
    assert time.monotonic() - started < 10, "outlived its server by more than its 2 s check"
