"""The themes worker process never outlives the server it works for, even when the server dies
before the worker has finished starting (its parent is then already init, pid 1); in the
background it embeds only while the server's event loop is quiet, and at once when a grouping
waits."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from attune.themes import worker

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



SPIN = "import sys\nsys.stdout.write('ready\\n'); sys.stdout.flush()\nwhile True: pass\n"
SLEEP = "import sys, time\nsys.stdout.write('ready\\n'); sys.stdout.flush()\ntime.sleep(60)\n"


@contextmanager
def watching(monkeypatch: pytest.MonkeyPatch, code: str, urgent: int) -> Iterator[ctypes.c_int]:
    """The worker watching a stand-in for the server's event loop: a process that spins or
    sleeps in its main thread (whose state ``/proc/<pid>/stat`` gives); yields the flag of
    awaited groupings."""
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    loop = -1
    try:
        assert server.stdout.readline() == "ready\n"
        loop = os.open(f"/proc/{server.pid}/stat", os.O_RDONLY)
        flag = ctypes.c_int(urgent)
        monkeypatch.setattr(worker, "_loop", loop)
        monkeypatch.setattr(worker, "_urgent", flag)
        yield flag
    finally:
        if loop >= 0:
            os.close(loop)
        server.kill()
        server.wait()
        server.stdout.close()


def test_background_chunks_start_once_the_event_loop_is_quiet(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "PATIENCE", 120.0)  # so only a quiet loop ends the wait
    with watching(monkeypatch, SLEEP, 0):
        # Just after its "ready" the stand-in may still be running on its way into its sleep:
        # the wait sees it asleep once it is, and a small chunk follows, then another look.
        assert worker._after_quiet() == worker.CHUNK
        assert not worker._loop_busy()


def test_an_awaited_grouping_embeds_at_once_in_full_batches_even_while_the_loop_is_busy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with watching(monkeypatch, SPIN, 1) as flag:
        assert worker._pressed()
        assert worker._after_quiet() == worker.BATCH
        flag.value = 0
        assert not worker._pressed()


def test_a_busy_loop_is_not_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the loop spins, the worker waits rather than starting. Its patience is made long
    here; after the worker has watched the spinner for a second a grouping is asked for, and the
    wait ends with a full batch, which only the grouping's flag gives: the loop was never seen
    quiet."""
    monkeypatch.setattr(worker, "PATIENCE", 120.0)
    with watching(monkeypatch, SPIN, 0) as flag:
        assert worker._loop_busy()
        found: list[int] = []
        waiting = threading.Thread(target=lambda: found.append(worker._after_quiet()))
        waiting.start()
        time.sleep(1.0)  # not a measurement: time for the worker to look a few hundred times
        flag.value = 1
        waiting.join(30)
        assert found == [worker.BATCH]
