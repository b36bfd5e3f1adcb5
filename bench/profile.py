"""Sampling the server with py-spy while it works, and boiling the samples down to where time goes.

``record`` attaches ``py-spy record --format raw`` (collapsed stacks, non-blocking so the server is
not paused) to a running server; ``summarize`` reads the stacks back and adds up, per function, the
samples where it was running (self) and where it was on the stack (inclusive), and per layer
(Attune, Starlette, uvicorn, websockets, asyncio, the socket calls). Idle samples (the event loop
waiting in ``epoll``) are left out by py-spy, so the shares are of busy time.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
LAYERS = (
    ("server/", "attune"),
    ("bench/", "attune"),
    ("starlette/", "starlette"),
    ("uvicorn/", "uvicorn"),
    ("websockets/", "websockets"),
    ("h11/", "h11"),
    ("msgspec", "msgspec"),
    ("asyncio/", "asyncio"),
    ("selectors.py", "asyncio"),
    ("socket.py", "socket"),
)


def py_spy() -> str | None:
    found = shutil.which("py-spy")
    if found:
        return found
    import sys

    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else None


def record(pid: int, path: Path, rate: int = 250) -> subprocess.Popen[bytes] | None:
    spy = py_spy()
    if spy is None:
        return None
    return subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate),
         "--nonblocking", "--output", str(path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _layer(file: str) -> str:
    for needle, layer in LAYERS:
        if needle in file:
            return layer
    return "other"


def _name(frame: str) -> tuple[str, str]:
    match = FRAME.match(frame)
    if match is None:
        return frame, "other"
    file = match["file"]
    short = file.rsplit("site-packages/", 1)[-1].rsplit("/work/main/", 1)[-1]
    short = short.rsplit("lib/python3", 1)[-1].split("/", 1)[-1] if "lib/python3" in short \
        else short
    return f"{match['function']} ({short})", _layer(file)


def summarize(path: Path, top: int = 25) -> dict[str, Any] | None:
    if not path.exists():
        return None
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_name(f) for f in stack.split(";") if f and not f.startswith("process ")
                  and not f.startswith("thread ")]
        if not frames:
            continue
        name, layer = frames[-1]
        own[name] += n
        layers[layer] += n
        for seen in {f for f, _ in frames}:
            inclusive[seen] += n
    if not total:
        return {"samples": 0}

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(k, round(v / total, 4)) for k, v in counter.most_common(top)]

    return {"samples": total, "file": path.name, "self": share(own),
            "inclusive": share(inclusive), "layers": share(layers)}
