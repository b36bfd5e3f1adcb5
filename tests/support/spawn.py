"""``attune serve`` in a process of its own, as a deployment starts it: on a free loopback port,
its output in a log file, started, killed with SIGKILL and started again at will.

Used where a test needs what only a real process gives: several nodes sharing one Redis, a node
killed mid-session, the same data folder opened again. The themes worker (a process with a model
in it) is left out unless asked for: none of these tests is about themes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from tests.support.paths import ROOT
from tests.support.servers import free_port
from tests.support.waiting import until


def http_status(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """The status and body of a GET; 0 when nothing answers (a node down or starting)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


async def status(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    return await asyncio.to_thread(http_status, url, headers)


class Served:
    """One ``attune serve`` process; ``args`` are its command-line options after the port."""

    def __init__(self, log: Path, *args: str, themes: bool = False,
                 env: Mapping[str, str] | None = None) -> None:
        self.name = log.stem
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.args = [*args] if themes else [*args, "--no-themes"]
        self.env = dict(os.environ if env is None else env)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # Output to a file, not a pipe: a killed server's helper processes may hold a pipe open.
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "attune.cli", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), *self.args],
                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=self.env,
            )

    async def ready(self, timeout: float = 90.0) -> None:
        """Wait until ``/readyz`` says 200 (imports are slow on a loaded 2-core machine); fail
        with the log if the process exits first."""
        async def check() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.log.read_text()}")
            return (await status(self.base + "/readyz"))[0] == 200
        await until(check, f"{self.name} is ready", timeout)

    async def up(self) -> None:
        self.start()
        await self.ready()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None
