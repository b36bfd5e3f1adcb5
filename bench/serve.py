"""Entry point of every server the benchmark starts: ``python -m bench.serve KIND --port N``.

Each runs in its own process (pinned by the orchestrator with ``taskset``) so its CPU time and
memory can be read from ``/proc``. Kinds:

- ``attune``: the real server, ``create_app`` with ``uvicorn_config`` as shipped;
- ``floor``, ``websockets``, ``starlette``, ``socketio``: the peers in ``bench.peers``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import warnings
from typing import Any

from bench import peers, system

KINDS = ("attune", "floor", "websockets", "starlette", "socketio")


def _uvicorn(app: Any, port: int, **options: Any) -> Any:
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, **options)
    return uvicorn.Server(config)


def _attune_settings(port: int, backend: str) -> Any:
    from server.config import Settings

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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", default="memory://")
    parser.add_argument("--frame-size", type=int, default=400)
    args = parser.parse_args()
    system.raise_open_files()
    warnings.simplefilter("ignore", DeprecationWarning)
    trace = os.environ.get("BENCH_TRACEMALLOC")
    if trace:
        _trace_memory(trace)

    if args.kind == "floor":
        asyncio.run(peers.serve_floor(args.port, args.frame_size))
    elif args.kind == "websockets":
        asyncio.run(peers.serve_websockets(args.port, args.frame_size))
    elif args.kind == "starlette":
        _uvicorn(peers.starlette_app(args.frame_size), args.port).run()
    elif args.kind == "socketio":
        _uvicorn(peers.socketio_app(args.frame_size), args.port).run()
    elif args.kind == "attune":
        from server.app import create_app, uvicorn_config

        settings = _attune_settings(args.port, args.backend)
        options = uvicorn_config(settings)
        for key in ("host", "port", "access_log"):
            options.pop(key)
        _uvicorn(create_app(settings), args.port, **options).run()


if __name__ == "__main__":
    main()
