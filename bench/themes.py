"""``python -m bench.themes``: what live themes cost, on this machine (docs/themes.md reports it).

    python -m bench.themes                      # embedding cost, 100 and 1,000 answers, on/off
    python -m bench.themes --sizes 100 --rounds 10

Three measurements:

- **embedding cost per answer**: the worker's model, in this process, one answer at a time (as
  answers arrive) and in batches (as a grouping of answers not yet seen embeds them);
- **reveal to themes**: a real ``attune serve`` in its own process, N participants answer a
  free-text step with ``themes: true``, the facilitator reveals it and waits for the results that
  carry themes (they come through the results push, coalesced every 100 ms), and for the
  projector to have them; the phones hang up after answering (see below): *warm* when the
  facilitator was connected while people answered (answers embedded as they arrived), *cold*
  when it connects only afterwards (everything embedded at grouping time);
- **fan-out during a burst**: N participants answer at once while the facilitator toggles
  ``reveal``/``hide_results`` every ``--every`` ms; each participant notes when each event
  arrives, so the latency of every event at every participant is known. The p99 with the themes
  worker on is compared with a run with ``--no-themes``, alternating on and off ``--repeat``
  times so the shared machine's noise falls on both alike.

Participants are script clients over real WebSockets on loopback, in this process; the server is
a separate process, as in production. Bounded: every wait has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from attune.client import Client, Created, create_session
from attune.core import protocol as p

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "themes" / "noor.yaml"
STEP = 0


def texts(n: int) -> list[str]:
    """``n`` distinct short answers: the labelled set, then pairs of answers of one theme (some
    2,300 in all, taken round the themes so any prefix mixes them)."""
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))["answers"]
    by_theme = [[t for answers in langs.values() for t in answers] for langs in data.values()]
    found = [t for theme in by_theme for t in theme]
    pairs = [[f"{a} {b}" for i, a in enumerate(theme) for b in theme[i + 1:]]
             for theme in by_theme]
    for row in zip(*pairs, strict=False):
        found.extend(row)
    if n > len(found):
        raise ValueError(f"at most {len(found)} distinct answers")
    return found[:n]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- embedding cost ---------------------------------------------------------------------------


def embedding_cost(n: int) -> dict[str, float]:
    from attune.themes import worker

    worker.init()
    sample = texts(n + 1000)
    started = time.perf_counter()
    one = []
    for text in sample[:n]:
        t0 = time.perf_counter()
        worker.embed([text])
        one.append((time.perf_counter() - t0) * 1000)
    batch = sample[n:]
    t0 = time.perf_counter()
    worker.embed(batch)
    batched = (time.perf_counter() - t0) * 1000 / len(batch)
    t0 = time.perf_counter()
    worker.group(sample[:1000], 8, 3)
    group_1000 = (time.perf_counter() - t0) * 1000
    return {
        "one_at_a_time_ms_median": round(statistics.median(one), 2),
        "one_at_a_time_ms_p95": round(pct(one, 0.95), 2),
        "batched_ms_per_answer": round(batched, 3),
        "group_1000_embedded_ms": round(group_1000, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


# --- a real server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``attune serve`` in its own process, with or without the themes worker."""

    def __init__(self, themes: bool, min_responses: int, on_reveal: bool) -> None:
        self.port = free_port()
        self.themes = themes
        self.min_responses = min_responses
        self.base = f"http://127.0.0.1:{self.port}"
        self.folder = tempfile.TemporaryDirectory()
        scenario = yaml.safe_load((ROOT / "tests/data/themes/story.yaml").read_text("utf-8"))
        scenario["steps"][0]["themes"] = on_reveal
        scenario["steps"][0]["max_length"] = 1000
        (Path(self.folder.name) / "story.yaml").write_text(yaml.safe_dump(scenario), "utf-8")
        command = [sys.executable, "-m", "attune.cli", "serve", "--port", str(self.port),
                   "--backend", "memory://",
                   "--scenarios", self.folder.name, "--min-responses", str(min_responses)]
        if not themes:
            command.append("--no-themes")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})

    async def ready(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("attune serve did not start") from None
                await asyncio.sleep(0.2)
        if self.themes and self.min_responses <= 6:
            await self.warm_up()
        elif self.themes:
            # Above the threshold nothing is shown to wait for: give the worker the time its
            # model takes to load on a loaded machine (seconds; measured up to about 10 here).
            await asyncio.sleep(20)

    async def warm_up(self) -> None:
        """Group a throwaway session's answers once, so the worker has loaded its model (seconds
        on a loaded machine) before anything is measured."""
        created = await create_session(self.base, "themes-story")
        host = await Client.facilitator(created)
        people = await join(created, 6)
        await host.command(p.Start())
        await asyncio.gather(*(person.expect(p.StepEvent, timeout=60) for person in people))
        await asyncio.gather(*(person.answer(STEP, p.TextValue(text=text))
                               for person, text in zip(people, texts(6), strict=True)))
        await host.command(p.GroupThemes(step=STEP))
        await host.expect(p.Results, themed, timeout=300)
        await asyncio.gather(*(c.close() for c in [*people, host]))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.folder.cleanup()


async def join(created: Created, n: int) -> list[Client]:
    people: list[Client] = []
    for start in range(0, n, 100):
        people += await asyncio.gather(*(Client.participant(created.code, base=created.base)
                                         for _ in range(start, min(n, start + 100))))
    return people


def themed(results: p.Results) -> bool:
    return isinstance(results.answers, p.TextAggregate) and results.answers.themes is not None


async def reveal_to_themes(n: int, warm: bool) -> dict[str, Any]:
    server = Server(themes=True, min_responses=3, on_reveal=True)
    try:
        await server.ready()
        created = await create_session(server.base, "themes-story")
        host = await Client.facilitator(created)
        people = await join(created, n)
        await host.command(p.Start())
        await asyncio.gather(*(person.expect(p.StepEvent, timeout=60) for person in people))
        if not warm:  # nobody on this node to embed for while the answers arrive
            await host.close()
            await asyncio.sleep(0.5)
        answers = texts(n)
        await asyncio.gather(*(person.answer(STEP, p.TextValue(text=text))
                               for person, text in zip(people, answers, strict=True)))
        # The phones hang up (their answers stay): otherwise this one process would spend the
        # measured time decoding a thousand copies of the revealed cards, which real phones do
        # each on their own. A projector stays, as in a room.
        await asyncio.gather(*(person.close() for person in people))
        screen = await Client.screen(created.code, base=created.base)
        if warm:  # let the embedding of the arrivals finish, as it would while people read
            await asyncio.sleep(2.0 + n * 0.01)
        else:
            host = await Client.facilitator(created)
        t0 = time.perf_counter()
        await host.command(p.Reveal())
        results = await host.expect(p.Results, themed, timeout=120)
        elapsed = (time.perf_counter() - t0) * 1000
        assert isinstance(results.answers, p.TextAggregate) and results.answers.themes
        await screen.expect(p.Results, themed, timeout=120)
        on_screen = (time.perf_counter() - t0) * 1000
        await asyncio.gather(*(c.close() for c in [screen, host]))
        return {"answers": n, "warm": warm, "ms": round(elapsed, 1),
                "on_screen_ms": round(on_screen, 1),
                "themes": len(results.answers.themes.themes)}
    finally:
        server.stop()


async def burst(n: int, themes: bool, every_ms: float) -> dict[str, Any]:
    # A threshold above n: phones get the reveal events but no aggregate, so what is measured is
    # the fan-out of events while answers pour in, not the size of the results pushes.
    server = Server(themes=themes, min_responses=n + 1, on_reveal=False)
    try:
        await server.ready()
        created = await create_session(server.base, "themes-story")
        host = await Client.facilitator(created)
        people = await join(created, n)
        await host.command(p.Start())
        await asyncio.gather(*(person.expect(p.StepEvent, timeout=60) for person in people))
        for person in people:
            person.seen.clear()
        sent: dict[int, float] = {}
        stop = asyncio.Event()

        async def toggle() -> None:
            # Each toggle makes exactly one event, in order: the n-th is event seq + n. They are
            # sent on a fixed rhythm, not after the previous arrives, so a busy server gets as
            # many as a quiet one and each carries its own queueing delay.
            revealed, seq = False, host.seq
            while not stop.is_set():
                await asyncio.sleep(every_ms / 1000)
                revealed, seq = not revealed, seq + 1
                sent[seq] = time.perf_counter()
                await host.command(p.Reveal() if revealed else p.HideResults())

        arrivals: dict[int, list[float]] = {}

        def note(person: Client) -> None:
            # The test client keeps no arrival times; wrap its one entry point for messages.
            original = person._receive

            async def receive(message: p.ServerMessage) -> None:
                if isinstance(message, p.RevealEvent):
                    arrivals.setdefault(message.seq, []).append(time.perf_counter())
                await original(message)

            person._receive = receive  # type: ignore[method-assign]

        for person in people:
            note(person)
        toggler = asyncio.create_task(toggle())
        t0 = time.perf_counter()
        acks = await asyncio.gather(*(timed_answer(person, text)
                                      for person, text in zip(people, texts(n), strict=True)))
        burst_s = time.perf_counter() - t0
        stop.set()
        await asyncio.wait_for(toggler, 30)
        await asyncio.sleep(1.0)
        latencies = [(at - sent[seq]) * 1000 for seq, times in arrivals.items() if seq in sent
                     for at in times]
        await asyncio.gather(*(c.close() for c in [*people, host]))
        return {
            "answers": n, "themes": themes, "burst_s": round(burst_s, 2),
            "events": len(sent), "deliveries": len(latencies),
            "fanout_p50_ms": round(pct(latencies, 0.5), 1),
            "fanout_p99_ms": round(pct(latencies, 0.99), 1),
            "ack_p50_ms": round(pct(acks, 0.5), 1), "ack_p99_ms": round(pct(acks, 0.99), 1),
        }
    finally:
        server.stop()


async def timed_answer(person: Client, text: str) -> float:
    t0 = time.perf_counter()
    await person.answer(STEP, p.TextValue(text=text))
    return (time.perf_counter() - t0) * 1000


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(),
                                           "load": os.getloadavg()}, "started": time.time()}
    if args.single:
        print("embedding cost ...", flush=True)
        results["embedding"] = embedding_cost(args.single)
        print(results["embedding"], flush=True)
    results["reveal"] = []
    for n in args.sizes:
        for warm in (True, False):
            print(f"reveal to themes, {n} answers, {'warm' if warm else 'cold'} ...", flush=True)
            results["reveal"].append(await reveal_to_themes(n, warm))
            print(results["reveal"][-1], flush=True)
    results["burst"] = []
    for round_ in range(args.repeat):
        for themes in ((True, False) if round_ % 2 == 0 else (False, True)):
            print(f"burst of {args.burst} answers, themes {'on' if themes else 'off'} ...",
                  flush=True)
            results["burst"].append(await burst(args.burst, themes, args.every))
            print(results["burst"][-1], flush=True)
    on = [r["fanout_p99_ms"] for r in results["burst"] if r["themes"]]
    off = [r["fanout_p99_ms"] for r in results["burst"] if not r["themes"]]
    results["fanout_p99_ratio_median"] = round(statistics.median(on) / statistics.median(off), 3)
    results["machine"]["load_after"] = os.getloadavg()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.themes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1000],
                        help="answers for reveal to themes (none: skip)")
    parser.add_argument("--single", type=int, default=200,
                        help="answers embedded one by one (0: skip the embedding cost)")
    parser.add_argument("--burst", type=int, default=1000, help="answers in the burst")
    parser.add_argument("--every", type=float, default=50, help="ms between reveal toggles")
    parser.add_argument("--repeat", type=int, default=3, help="on/off pairs of bursts")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"themes-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(json.dumps(results, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
