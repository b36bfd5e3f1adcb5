"""``python -m bench.groups``: what forming groups costs, per member, against one step's fan-out.

Forming is one facilitator command, but unlike a step it gives every participant a message of
their own (their group, their role), so its cost grows with the room twice: the fold (shuffle by
keyed hash, cut into groups, assign roles) and one private ``group`` message built, encoded and
written per member. This measures both on the server's own code, with no sockets, in CPU time:

    python -m bench.groups --sizes 1000,10000          # the pure cost, per member
    python -m bench.groups --sizes 1000 --live 300     # and end to end over a real server

The target (issue #15) is that 10,000 participants form triads within the fan-out time of one
step: docs/benchmarks.md measures that at 72-113 ms on this machine (7-11 us of server CPU per
frame). A private message per member costs one fan-out frame's write on top of the fold and the
encode measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

from attune.core import protocol as p
from attune.core import scenario as sc
from attune.core.session import Commanded, Joined, Readied, Session, SessionInfo, digest

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "listening-triads.yaml"
GROUPS = 1


def room(n: int) -> Session:
    """A session on its groups step with ``n`` joined participants who all said they are ready."""
    session = Session(SessionInfo(
        id="bench", code="BENCH1", epoch="e", secret="s" * 32, token_hash=digest("t"),
        language="en", min_responses=3, created_at=0, scenario=sc.load(SCENARIO),
    ))
    for i in range(n):
        session.apply(Joined(at=1, participant=f"{i:024x}", token_hash=""))
    session.apply(Commanded(at=2, command=p.Start()))
    session.apply(Commanded(at=3, command=p.Next()))
    for i in range(n):
        session.apply(Readied(at=4, participant=f"{i:024x}", step=GROUPS, ready=True))
    return session


def measure(n: int, repeat: int = 3) -> dict[str, Any]:
    """Median CPU of forming ``n`` into triads: the fold, and every member's private view."""
    folds, views = [], []
    size = 0
    for _ in range(repeat):
        session = room(n)
        start = time.process_time()
        session.apply(Commanded(at=5, command=p.GroupsForm()))
        folded = time.process_time()
        for who in session.participants:
            frame = p.encoder.encode(session.group_view(who))
            size = len(frame)
        done = time.process_time()
        folds.append(folded - start)
        views.append(done - folded)
    fold, view = sorted(folds)[repeat // 2], sorted(views)[repeat // 2]
    return {
        "participants": n, "groups": len(session.groups[GROUPS].live_groups()),
        "fold_ms": round(fold * 1000, 2), "views_ms": round(view * 1000, 2),
        "us_per_member": round((fold + view) / n * 1e6, 2), "view_bytes": size,
    }


async def live(n: int) -> dict[str, Any]:
    """End to end on a real server (memory backend): the form command to the last member's view."""
    import socket

    import uvicorn

    from attune.app import create_app, uvicorn_config
    from attune.client import Client, create_session
    from attune.config import Settings

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    settings = Settings(port=port, scenarios=SCENARIO.parent, min_responses=3)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning",
                                           **uvicorn_config(settings)))  # type: ignore[arg-type]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{port}"
    try:
        created = await create_session(base, "listening-triads")
        host = await Client.facilitator(created)
        people = [await Client.participant(created.code, base=base) for _ in range(n)]
        await host.command(p.Start())
        await host.command(p.Next())
        for person in people:
            await person.expect(p.GroupsEvent, timeout=30)
        await asyncio.gather(*(person.ready(GROUPS) for person in people))
        start = time.perf_counter()
        await host.command(p.GroupsForm())
        await asyncio.gather(*(person.expect(p.GroupView, lambda v: v.status == "grouped",
                                             timeout=30) for person in people))
        elapsed = time.perf_counter() - start
        for client in [host, *people]:
            await client.close()
        return {"participants": n, "form_to_last_view_ms": round(elapsed * 1000, 1)}
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.groups", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated room sizes")
    parser.add_argument("--live", type=int, default=0,
                        help="also form this many script phones over a real server")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"pure": [measure(int(n)) for n in args.sizes.split(",")]}
    if args.live:
        results["live"] = asyncio.run(live(args.live))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
