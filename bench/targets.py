"""The servers under test, how to start them, and the session the Attune ones run.

A ``Target`` names a server kind (``bench.serve``), how its clients speak to it and at which path.
``ServerProcess`` starts one pinned to the server CPU, waits until it accepts connections, and
reads its CPU time and memory from ``/proc``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench import system
from bench.wsclient import SOCKETIO_PATH

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    name: str
    kind: str
    """``bench.serve`` kind."""
    client: str
    """``attune``, ``raw`` or ``socketio``: how the load clients speak."""
    path: str
    label: str
    options: tuple[str, ...] = ()
    needs: str | None = None
    """A module that must be importable (a ``bench`` extra), else the target is skipped."""
    nodes: int = 1
    redis: bool = False
    sqlite: str = ""
    """When set, sessions in a fresh SQLite file with this URL query (the default backend);
    the restart scenario runs."""

    @property
    def attune(self) -> bool:
        return self.client == "attune"


PEERS = [
    Target("cfloor", "cfloor", "raw", "/",
           "compiled floor: C, epoll, one pre-built frame send() per socket"),
    Target("floor", "floor", "raw", "/", "floor: asyncio, one pre-built frame per transport"),
    Target("websockets", "websockets", "raw", "/", "websockets 'broadcast()'"),
    Target("starlette", "starlette", "raw", "/ws",
           "plain Starlette on uvicorn, loop of 'await ws.send_text()'"),
    Target("socketio", "socketio", "socketio", SOCKETIO_PATH,
           "python-socketio ASGI on uvicorn, emit to a room", needs="socketio"),
]
ATTUNE = Target("attune", "attune", "attune", "/ws", "Attune as configured by uvicorn_config")
SQLITE = [
    Target("attune-sqlite", "attune", "attune", "/ws",
           "Attune, SQLite backend as shipped (synchronous=normal)",
           sqlite="synchronous=normal"),
    Target("attune-sqlite-full", "attune", "attune", "/ws",
           "Attune, SQLite backend, an fsync per commit (synchronous=full)",
           sqlite="synchronous=full"),
]
REDIS = [
    Target("attune-redis-1", "attune", "attune", "/ws", "Attune, Redis backend, 1 node",
           redis=True),
    Target("attune-redis-2", "attune", "attune", "/ws", "Attune, Redis backend, 2 nodes",
           nodes=2, redis=True),
]
ALL = [*PEERS, ATTUNE, *SQLITE, *REDIS]


def available(target: Target) -> bool:
    if target.needs is None:
        return True
    import importlib.util

    return importlib.util.find_spec(target.needs) is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """One server process: started pinned, stopped by its own pid."""

    kind: str
    args: list[str]
    cpus: list[int] | None
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [*system.pin_prefix(self.cpus), sys.executable, "-m", "bench.serve", self.kind,
                   "--port", str(self.port), "--collector-log", str(self.collector_log),
                   *self.args]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 90  # a loaded machine can take 30 s to import and start it
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited: see {self.log}")
            if _port_open(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.kind} did not start on port {self.port}: see {self.log}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def collector_log(self) -> Path:
        return self.log.parent / f"collector-{self.port}.txt"

    def collections(self, since: float, until: float) -> list[tuple[int, float]]:
        """The cyclic collector's passes (generation, ms) that ended between two wall times."""
        passes = []
        if self.collector_log.exists():
            for line in self.collector_log.read_text().splitlines():
                at, generation, ms = line.split()
                if since <= float(at) <= until:
                    passes.append((int(generation), float(ms)))
        return passes

    def cpu(self) -> float:
        return system.cpu_seconds(self.pid)

    def rss(self) -> int:
        return system.rss_bytes(self.pid)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2):
            return True
    except OSError:
        return False


# --- the session the Attune targets run -----------------------------------------------------------

FANOUT_STEPS = (0, 1)
"""Two short story steps; fan-out rounds go back and forth between them."""
LONG_STEPS = (2, 3)
"""Two long story steps (about 8 KB per frame) for the slow-consumer scenario."""
FIRST_SCALE = 4
SCALE_STEPS = 40

STORY = ("Sam waits at the bus stop in the rain. A friend walks past without a word, eyes on the "
         "phone. Sam remembers yesterday's argument and wonders whether the friend is still "
         "upset, or simply did not see. What might each of them be feeling right now?")


def scenario_yaml() -> str:
    steps: list[dict[str, Any]] = [
        {"kind": "story", "title": f"Story {i + 1}", "text": STORY, "characters": [{"name": "Sam"}]}
        for i in FANOUT_STEPS
    ]
    steps += [
        {"kind": "story", "title": f"Long story {i}", "text": (STORY + " ") * 28}
        for i in LONG_STEPS
    ]
    steps += [
        {"kind": "scale", "prompt": f"How calm are you now? ({i + 1})", "min": 1, "max": 5,
         "min_label": "restless", "max_label": "calm"}
        for i in range(SCALE_STEPS)
    ]
    return yaml.safe_dump({
        "id": "bench", "title": "Benchmark", "summary": "Steps for the benchmark harness.",
        "audience": ["workshop"], "duration_minutes": 10, "languages": ["en"], "steps": steps,
    }, allow_unicode=True)


def step_frame_size(index: int) -> int:
    """Bytes of the step event a participant receives for a fan-out step, so the peers can send
    frames of the same size."""
    from attune.core import protocol as p
    from attune.core import scenario as sc
    from attune.core import views

    scenario = sc.loads(scenario_yaml(), "bench")
    view = views.step_view(scenario.steps[index], index, "en", False)
    event = p.StepEvent(seq=1, step=view, started_at=time.time() * 1000, responses_open=False)
    return len(p.encoder.encode(event))


def create_session(api: str) -> dict[str, str]:
    request = urllib.request.Request(
        f"{api}/api/sessions", method="POST",
        data=json.dumps({"scenario_yaml": scenario_yaml()}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        created: dict[str, str] = json.load(response)
    return created
