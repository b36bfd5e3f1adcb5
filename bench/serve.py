"""Entry point of every server the benchmark starts: ``python -m bench.serve KIND --port N``.

Each runs in its own process (pinned by the orchestrator with ``taskset``) so its CPU time and
memory can be read from ``/proc``. Kinds:

- ``attune``: the real server, ``create_app`` with ``uvicorn_config`` as shipped;
- ``floor``, ``websockets``, ``starlette``, ``socketio``: the peers in ``bench.peers``;
- ``cfloor``: the compiled floor (``bench/cfloor.c``), which this process becomes with ``exec``
  (same pid, so the orchestrator reads its CPU time as any other server's).
"""

from __future__ import annotations

import argparse
import gc
import os
import time
import warnings
from typing import Any

import uvloop

from bench import peers, system

KINDS = ("attune", "cfloor", "floor", "websockets", "starlette", "socketio")


def _uvicorn(app: Any, port: int, **options: Any) -> Any:
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, **options)
    return uvicorn.Server(config)


def _attune_settings(port: int, backend: str) -> Any:
    from attune.config import Settings

    return Settings(port=port, backend=backend)


def _trace_memory(prefix: str) -> None:
    """With ``BENCH_TRACEMALLOC=PREFIX``: trace allocations, and on each SIGUSR1 dump a
    snapshot to ``PREFIX.1``, ``PREFIX.2``... (to see where a connection's memory goes)."""
    import itertools
    import signal
    import tracemalloc

    tracemalloc.start(1)
    numbers = itertools.count(1)

    def dump(signum: int, frame: object) -> None:
        tracemalloc.take_snapshot().dump(f"{prefix}.{next(numbers)}")

    signal.signal(signal.SIGUSR1, dump)


def _log_collector(path: str) -> None:
    """Write every cyclic-collector pass (end time, generation, milliseconds) to ``path``, so
    the orchestrator can tell a pause in the figures from a collection."""
    log = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's lifetime
    started = [0.0]

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            ms = (time.perf_counter() - started[0]) * 1000
            log.write(f"{time.time():.4f} {info['generation']} {ms:.3f}\n")

    gc.callbacks.append(timed)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", default="memory://")
    parser.add_argument("--frame-size", type=int, default=400)
    parser.add_argument("--collector-log", help="file for the cyclic collector's passes")
    parser.add_argument("--binary", help="the compiled floor's executable (kind cfloor)")
    args = parser.parse_args()
    system.raise_open_files()
    if args.kind == "cfloor":
        os.execv(args.binary, [args.binary, str(args.port), str(args.frame_size)])
    warnings.simplefilter("ignore", DeprecationWarning)
    trace = os.environ.get("BENCH_TRACEMALLOC")
    if trace:
        _trace_memory(trace)
    if args.collector_log:
        _log_collector(args.collector_log)

    # Every kind runs on uvloop: uvicorn picks it for the ASGI servers and for Attune, so the two
    # asyncio servers use it too and the comparison is between servers, not event loops.
    if args.kind == "floor":
        uvloop.run(peers.serve_floor(args.port, args.frame_size))
    elif args.kind == "websockets":
        uvloop.run(peers.serve_websockets(args.port, args.frame_size))
    elif args.kind == "starlette":
        _uvicorn(peers.starlette_app(args.frame_size), args.port).run()
    elif args.kind == "socketio":
        _uvicorn(peers.socketio_app(args.frame_size), args.port).run()
    elif args.kind == "attune":
        from attune.app import create_app, uvicorn_config
        from attune.cli import tune_collector

        settings = _attune_settings(args.port, args.backend)
        options = uvicorn_config(settings)
        for key in ("host", "port", "access_log"):
            options.pop(key)
        app = create_app(settings)
        tune_collector()  # as `attune serve` does
        _uvicorn(app, args.port, **options).run()


if __name__ == "__main__":
    main()
