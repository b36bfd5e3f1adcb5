"""The orchestrator: starts each server, drives the load workers through the scenarios, records.

For every size and every target, in that order (so the peers and Attune are measured minutes
apart, not an hour apart): start the server pinned to its CPU, connect the participants, measure
memory and fan-out, and for Attune also ingest, slow consumers and the reconnect storm; then stop
everything and go on. The facilitator (Attune) or a control socket (peers) lives in this process
and triggers each broadcast.
"""

from __future__ import annotations

import asyncio
import json
import math
import signal
import subprocess
import time
import urllib.request
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import system
from bench.loadgen import Load
from bench.targets import (
    FANOUT_STEPS,
    FIRST_SCALE,
    LONG_STEPS,
    ROOT,
    SCALE_STEPS,
    ServerProcess,
    Target,
    create_session,
    step_frame_size,
)
from bench.wsclient import Client, Probe

SLOW_EVERY = 20
"""One participant in 20 (5%) is created with a small receive buffer and stops reading in the
slow-consumer scenario."""
CPU_BOUND = 0.85
PROFILED = ("attune",)
"""Sampled with py-spy at the largest size: the shipped server and the recommended change."""
SLOW = ("attune",)
"""The slow-consumer scenario runs on the shipped server: the fast path must keep the
backpressure right."""
"""Busy fraction of a core above which a side counts as CPU-bound."""


@dataclass
class Plan:
    sizes: list[int]
    targets: list[Target]
    scenarios: set[str]
    workers: int = 4
    rounds: dict[int, int] = field(default_factory=dict)
    ingest_rounds: int = 3
    slow_rounds: tuple[int, int] = (24, 24)
    """Rounds before and after 5 % stop reading: as many after (the slow sockets' buffers fill
    and stay full) as before, so the two p99s are taken over the same number of rounds."""
    pin: bool = True
    profile: bool = False
    quick: bool = False
    out: Path = ROOT / "bench" / "results"

    def rounds_for(self, n: int) -> int:
        return self.rounds.get(n, 3 if self.quick else max(6, min(20, 20_000 // max(n, 1))))


def pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def median(values: list[float]) -> float:
    return pct(values, 0.5)


def floats(blobs: list[bytes]) -> list[float]:
    out = array("d")
    for blob in blobs:
        out.frombytes(blob)
    return out.tolist()


class Watcher:
    """Observer of the facilitator or control socket: remembers results pushes."""

    def __init__(self) -> None:
        self.results: list[tuple[int, int, float]] = []

    def on_open(self, client: Client) -> None:
        pass

    def on_step(self, client: Client, seq: int, started_at: float, kernel: float,
                app: float) -> None:
        pass

    def on_message(self, client: Client, probe: Probe, kernel: float) -> None:
        if probe.type == "results" and isinstance(probe.step, int):
            self.results.append((probe.step, probe.count, kernel))

    def on_close(self, client: Client, code: int | None) -> None:
        pass


class Run:
    """One target at one size: its server processes, the control socket, the connected load."""

    def __init__(self, bench: Bench, target: Target, n: int) -> None:
        self.bench = bench
        self.target = target
        self.n = n
        self.servers: list[ServerProcess] = []
        self.redis: Any = None
        self.watcher = Watcher()
        self.control: Client | None = None
        self.code = ""
        self.memory: dict[str, Any] = {}
        self.scale_step = FIRST_SCALE

    @property
    def load(self) -> Load:
        return self.bench.load

    # --- set-up ------------------------------------------------------------------------------

    async def start(self) -> None:
        target, plan = self.target, self.bench.plan
        args = list(target.options)
        if not target.attune:
            # The peers pad their step frame to the size of Attune's, so all move the same bytes.
            args += ["--frame-size", str(self.bench.frame_bytes)]
        if target.kind == "cfloor":
            args += ["--binary", str(self.bench.cfloor)]
        if target.redis:
            from tests.support.redis_server import RedisProcess

            self.redis = RedisProcess(plan.out / "redis")
            self.redis.start()
            if self.bench.load_cpus:
                system.pin(self.redis.process.pid, self.bench.load_cpus)
            args += ["--backend", self.redis.url]
        if target.sqlite:
            folder = plan.out / "sqlite" / f"{target.name}-{self.n}-{time.time_ns()}"
            args += ["--backend", f"sqlite://{folder}/attune.sqlite3?{target.sqlite}"]
        log = plan.out / "logs" / f"{target.name}-{self.n}.log"
        for _ in range(target.nodes):
            server = ServerProcess(target.kind, args, self.bench.server_cpus, log)
            server.start()
            self.servers.append(server)
        loop = asyncio.get_running_loop()
        self.control = Client(loop, self.watcher, target.client)
        await self.control.connect("127.0.0.1", self.servers[0].port, target.path)
        if target.attune:
            created = await asyncio.to_thread(create_session, self.servers[0].api)
            self.code = created["code"]
            self.control.send(json.dumps({"type": "hello", "role": "facilitator",
                                          "session": created["session"],
                                          "token": created["token"]}).encode())
            await asyncio.wait_for(self.control.welcomed, 10)
            self.control.send(b'{"type":"start"}')
            await self.wait_seq(1)

    async def connect(self) -> dict[str, Any]:
        target = self.target
        hello = json.dumps({"type": "hello", "role": "participant", "code": self.code}) \
            if target.attune else None
        shares = [{"n": k, "port": self.servers[i % len(self.servers)].port}
                  for i, k in enumerate(self.load.split(self.n))]
        await asyncio.sleep(0.5)
        rss0 = self.rss()
        start = time.perf_counter()
        replies = await self.load.each("connect", shares=shares, host="127.0.0.1",
                                       kind=target.client, path=target.path, hello=hello,
                                       slow_every=SLOW_EVERY, concurrency=64)
        seconds = time.perf_counter() - start
        await asyncio.sleep(1.0)
        rss1 = self.rss()
        connected = sum(r["connected"] for r in replies)
        failed: Counter[str] = Counter()
        for reply in replies:
            failed.update(reply["failed"])
        self.memory = {
            "connected": connected,
            "rss_delta_mb": round((rss1 - rss0) / 2**20, 2),
            "kib_per_connection": round((rss1 - rss0) / 1024 / connected, 2) if connected else None,
        }
        return {"connected": connected, "failed": dict(failed), "seconds": round(seconds, 3),
                "per_second": round(connected / seconds, 1) if seconds else None,
                "rss_before_mb": round(rss0 / 2**20, 1), "rss_after_mb": round(rss1 / 2**20, 1)}

    async def stop(self) -> None:
        try:
            await self.load.each("close_all")
        finally:
            if self.control is not None:
                self.control.abort()
            for server in self.servers:
                server.stop()
            if self.redis is not None:
                self.redis.stop()

    # --- measurements ------------------------------------------------------------------------

    def rss(self) -> int:
        return sum(s.rss() for s in self.servers)

    def server_cpu(self) -> float:
        return sum(s.cpu() for s in self.servers)

    def server_wait(self) -> float:
        return sum(system.wait_seconds(s.pid) for s in self.servers)

    def redis_cpu(self) -> float:
        return system.cpu_seconds(self.redis.process.pid) if self.redis is not None else 0.0

    def load_cpu(self) -> float:
        return sum(system.cpu_seconds(pid) for pid in self.load.pids)

    def collector(self, since: float) -> dict[str, Any]:
        """The cyclic collector's time in the servers since a wall time: all of it, its longest
        pass, and how many passes were full collections."""
        passes = [p for s in self.servers for p in s.collections(since, time.time())]
        return {"collector_ms": round(sum(ms for _, ms in passes), 1),
                "collector_longest_ms": round(max((ms for _, ms in passes), default=0.0), 1),
                "full_collections": sum(1 for generation, _ in passes if generation == 2)}

    async def wait_seq(self, seq: int, timeout: float = 30.0) -> None:
        assert self.control is not None
        deadline = time.monotonic() + timeout
        while self.control.seq < seq and time.monotonic() < deadline:
            await asyncio.sleep(0.002)

    def trigger(self, step: int) -> None:
        assert self.control is not None
        if self.target.attune:
            self.control.send(b'{"type":"goto","step":%d}' % step)
        elif self.target.client == "socketio":
            self.control.send(b'42["go"]')
        else:
            self.control.send(b"go")

    async def broadcast(self, step: int, timeout: float) -> dict[str, Any]:
        """One broadcast: trigger it, wait until every reading participant has it."""
        assert self.control is not None
        seq = self.control.seq + 1
        self.trigger(step)
        replies = await self.load.each("wait_round", seq=seq, timeout=timeout)
        await self.wait_seq(seq)
        kernel = floats([r["kernel"] for r in replies])
        app = floats([r["app"] for r in replies])
        expected = sum(r["expected"] for r in replies)
        return {"kernel": kernel, "app": app, "expected": expected}

    async def fanout(self, rounds: int, steps: tuple[int, int] = FANOUT_STEPS,
                     warmup: int = 1) -> dict[str, Any]:
        timeout = 10 + self.n / 500
        for i in range(warmup):
            await self.broadcast(steps[i % 2], timeout)
            await asyncio.sleep(0.05)
        per_round: list[dict[str, Any]] = []
        pooled: list[float] = []
        since = time.time()
        cpu_s, cpu_l, wait_s = self.server_cpu(), self.load_cpu(), self.server_wait()
        busy = 0.0
        for i in range(rounds):
            got = await self.broadcast(steps[i % 2], timeout)
            kernel, app = got["kernel"], got["app"]
            last = max(kernel) if kernel else math.nan
            busy += last / 1000 if kernel else 0
            pooled += kernel
            per_round.append({
                "expected": got["expected"], "received": len(kernel),
                "p50_ms": round(median(kernel), 3), "p99_ms": round(pct(kernel, 0.99), 3),
                "last_ms": round(last, 3),
                "frames_per_s": round(len(kernel) / last * 1000) if kernel and last > 0 else 0,
                "client_lag_ms": round(max(app) - last, 3) if app else None,
                "rss_mb": round(self.rss() / 2**20, 1),
            })
            await asyncio.sleep(0.05)
        cpu_s, cpu_l = self.server_cpu() - cpu_s, self.load_cpu() - cpu_l
        wait_s = self.server_wait() - wait_s
        frames = len(pooled)
        load_cores = len(self.bench.load_cpus or system.cpus())
        server_busy = cpu_s / busy / len(self.servers) if busy else math.nan
        load_busy = cpu_l / busy / load_cores if busy else math.nan
        return {
            "rounds": per_round,
            "frame_bytes": self.bench.frame_bytes if steps == FANOUT_STEPS else None,
            "p50_ms": round(median(pooled), 3),
            "p99_ms": round(pct(pooled, 0.99), 3),
            "max_ms": round(max(pooled), 3) if pooled else None,
            "last_ms": round(median([r["last_ms"] for r in per_round]), 3),
            "frames_per_s": round(median([r["frames_per_s"] for r in per_round])),
            "missing": sum(r["expected"] - r["received"] for r in per_round),
            "client_lag_ms": round(median([r["client_lag_ms"] or 0 for r in per_round]), 3),
            "server_cpu_us_per_frame": round(cpu_s / frames * 1e6, 2) if frames else None,
            "load_cpu_us_per_frame": round(cpu_l / frames * 1e6, 2) if frames else None,
            "server_busy": round(server_busy, 3),
            "server_waited": round(wait_s / busy / len(self.servers), 3) if busy else None,
            "load_busy": round(load_busy, 3),
            "server_cpu_bound": bool(server_busy >= CPU_BOUND),
            "load_cpu_bound": bool(load_busy >= CPU_BOUND),
            **self.collector(since),
        }

    async def ingest(self, rounds: int) -> dict[str, Any]:
        per_round = []
        load_cores = len(self.bench.load_cpus or system.cpus())
        for _ in range(rounds):
            step = self.scale_step
            self.scale_step = FIRST_SCALE + (step + 1 - FIRST_SCALE) % SCALE_STEPS
            if self.target.attune:
                await self.broadcast(step, 10 + self.n / 500)
            await asyncio.sleep(0.3)
            self.watcher.results.clear()
            cpu_s, cpu_l, cpu_r = self.server_cpu(), self.load_cpu(), self.redis_cpu()
            replies = await self.load.each("answer", step=step, timeout=30 + self.n / 200)
            sent = sum(r["sent"] for r in replies)
            acked = sum(r["acked"] for r in replies)
            errors: Counter[str] = Counter()
            for reply in replies:
                errors.update(reply["errors"])
            first = min(r["first_send"] for r in replies)
            last_send = max(r["last_send"] for r in replies)
            acks = floats([r["acks"] for r in replies])
            last_ack = max(acks) if acks else math.nan
            complete = None
            deadline = time.monotonic() + (10 if self.target.attune else 0)
            while time.monotonic() < deadline:
                done = [k for s, c, k in self.watcher.results if s == step and c >= acked]
                if done:
                    complete = done[0]
                    break
                await asyncio.sleep(0.002)
            cpu_s, cpu_l = self.server_cpu() - cpu_s, self.load_cpu() - cpu_l
            cpu_r = self.redis_cpu() - cpu_r
            span = (last_ack - first) / 1000
            per_round.append({
                "step": step, "sent": sent, "acked": acked, "errors": dict(errors),
                "seconds": round(span, 4),
                "answers_per_s": round(acked / span) if span > 0 else None,
                "send_spread_ms": round(last_send - first, 2),
                "ack_p50_ms": round(median([a - first for a in acks]), 2),
                "projector_after_last_send_ms": round(complete - last_send, 2)
                if complete else None,
                "projector_after_last_ack_ms": round(complete - last_ack, 2)
                if complete else None,
                "server_cpu_us_per_answer": round(cpu_s / acked * 1e6, 2) if acked else None,
                "load_cpu_us_per_answer": round(cpu_l / acked * 1e6, 2) if acked else None,
                "redis_cpu_us_per_answer": round(cpu_r / acked * 1e6, 2)
                if acked and self.redis is not None else None,
                "server_busy": round(cpu_s / span / len(self.servers), 3) if span > 0 else None,
                "load_busy": round(cpu_l / span / load_cores, 3) if span > 0 else None,
            })
            await asyncio.sleep(0.2)

        def med(key: str) -> float | None:
            values = [r[key] for r in per_round if r[key] is not None]
            return median(values) if values else None

        cpu = med("server_cpu_us_per_answer")
        return {
            "rounds": per_round,
            "answers_per_s": med("answers_per_s"),
            "projector_after_last_send_ms": med("projector_after_last_send_ms"),
            "projector_after_last_ack_ms": med("projector_after_last_ack_ms"),
            "server_cpu_us_per_answer": cpu,
            "capacity_per_process": round(1e6 / cpu) if cpu else None,
            "server_busy": med("server_busy"),
            "load_cpu_us_per_answer": med("load_cpu_us_per_answer"),
            "redis_cpu_us_per_answer": med("redis_cpu_us_per_answer"),
            "load_busy": med("load_busy"),
        }

    async def slow(self) -> dict[str, Any]:
        clean_rounds, slow_rounds = self.bench.plan.slow_rounds
        healthy = sum(await self.load.each("measure_healthy", only=True))
        clean = await self.fanout(clean_rounds, LONG_STEPS)
        paused = sum(await self.load.each("pause_slow"))
        rss_start = self.rss()
        port = self.servers[0].port
        queued_start = system.send_queue_bytes(port)
        slow = await self.fanout(slow_rounds, LONG_STEPS, warmup=0)
        rss_end = self.rss()
        queued_end = system.send_queue_bytes(port)
        await self.load.each("measure_healthy", only=False)
        after = await self.load.each("resume_all")
        closes: Counter[str] = Counter()
        for reply in after:
            closes.update(reply["closes"])
        curve = [r["rss_mb"] for r in slow["rounds"]]
        half = len(curve) // 2
        return {
            "paused": paused,
            "healthy": healthy,
            "frame_bytes": self.bench.long_frame_bytes,
            "clean": _brief(clean),
            "slow": _brief(slow),
            "p99_ratio": round(slow["p99_ms"] / clean["p99_ms"], 3) if clean["p99_ms"] else None,
            "round_p99_ratio": _ratio(slow["rounds"], clean["rounds"], "p99_ms"),
            "last_ratio": round(slow["last_ms"] / clean["last_ms"], 3)
            if clean["last_ms"] else None,
            "rate_ratio": round(slow["frames_per_s"] / clean["frames_per_s"], 3)
            if clean["frames_per_s"] else None,
            "rss_mb": curve,
            "rss_growth_mb": round((rss_end - rss_start) / 2**20, 1),
            "rss_growth_second_half_mb": round(curve[-1] - curve[half], 1) if curve else None,
            "kernel_send_queue_mb": round(queued_end / 2**20, 1),
            "kernel_send_queue_growth_mb": round((queued_end - queued_start) / 2**20, 1),
            "closed_by_server": dict(closes),
        }

    async def restart(self) -> dict[str, Any]:
        """SIGKILL the server, start the same command on the same file and port, and let every
        participant resume: the time to a server that accepts connections again, then the storm
        of resumes against it (which needs the sessions read back from the file)."""
        server = self.servers[0]
        assert server.process is not None
        killed = time.perf_counter()
        server.process.kill()
        server.process.wait(10)
        if self.control is not None:
            self.control.abort()
            self.control = None
        await asyncio.to_thread(server.start)
        ready_ms = (time.perf_counter() - killed) * 1000
        storm = await self.storm(dead=True)
        slowest = storm["max_ms"]
        return {
            "server_ready_ms": round(ready_ms, 1),
            **storm,
            # The harness's own half-second before the resumes start is not counted.
            "restart_to_all_resumed_ms": round(ready_ms + slowest, 1)
            if slowest is not None and storm["resumed"] == storm["attempted"] else None,
        }

    async def storm(self, dead: bool = False) -> dict[str, Any]:
        since = time.time()
        at = since * 1000 + 500
        port = self.servers[0].port
        cpu, wait = self.server_cpu(), self.server_wait()
        replies = await self.load.each("storm", at=at, host="127.0.0.1", port=port,
                                       path=self.target.path, code=self.code,
                                       timeout=30.0, dead=dead)
        cpu, wait = self.server_cpu() - cpu, self.server_wait() - wait
        times = sorted(floats([r["times"] for r in replies]))
        attempted = sum(r["attempted"] for r in replies)
        need = math.ceil(0.99 * attempted)
        failed: Counter[str] = Counter()
        for reply in replies:
            failed.update(reply["failed"])
        return {
            "attempted": attempted,
            "resumed": len(times),
            "failed": dict(failed),
            "replays": sum(r["replays"] for r in replies),
            "snapshots": sum(r["snapshots"] for r in replies),
            "p50_ms": round(median(times), 1) if times else None,
            "time_to_99_ms": round(times[need - 1], 1) if len(times) >= need > 0 else None,
            "max_ms": round(times[-1], 1) if times else None,
            "server_cpu_s": round(cpu, 3),
            "server_cpu_ms_per_resume": round(cpu / len(times) * 1000, 3) if times else None,
            "server_waited_s": round(wait, 3),
            **self.collector(since),
        }

    async def command_seconds(self) -> tuple[float, float]:
        """Sum and count of ``attune_command_seconds`` on the facilitator's node: how long its
        commands took from arriving to being broadcast, through the backend's log."""
        def read() -> tuple[float, float]:
            with urllib.request.urlopen(f"{self.servers[0].api}/metrics", timeout=10) as r:
                text = r.read().decode()
            values = dict(line.rsplit(" ", 1) for line in text.splitlines()
                          if line.startswith("attune_command_seconds_"))
            return (float(values.get("attune_command_seconds_sum", 0)),
                    float(values.get("attune_command_seconds_count", 0)))

        return await asyncio.to_thread(read)

    async def redis_calls(self) -> dict[str, int]:
        from redis import Redis

        client = Redis.from_url(self.redis.url)
        try:
            stats = await asyncio.to_thread(client.info, "commandstats")
        finally:
            client.close()
        return {name.removeprefix("cmdstat_"): int(value["calls"])
                for name, value in stats.items()}

    async def profile(self, what: str, rounds: int) -> dict[str, Any] | None:
        from bench.profile import record, summarize

        path = self.bench.plan.out / f"profile-{what}-{self.target.name}-{self.n}.txt"
        spy = record(self.servers[0].pid, path)
        if spy is None:
            return None
        await asyncio.sleep(1.0)
        if what == "fanout":
            await self.fanout(rounds, warmup=0)
        elif what == "storm":
            await self.storm()
        else:
            await self.ingest(rounds)
        spy.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(spy.wait, 30)
        except subprocess.TimeoutExpired:
            spy.kill()
        return summarize(path)


def _brief(fanout: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fanout.items() if k != "rounds"}


def _ratio(after: list[dict[str, Any]], before: list[dict[str, Any]], key: str) -> float | None:
    """The median round's figure after over before: one disturbed round of 24 moves a p99 over
    all deliveries, not this."""
    was = median([r[key] for r in before])
    return round(median([r[key] for r in after]) / was, 3) if was else None


class Bench:
    def __init__(self, plan: Plan, say: Any) -> None:
        self.plan = plan
        self.say = say
        self.server_cpus, self.load_cpus = system.plan_cpus(plan.pin)
        self.frame_bytes = step_frame_size(FANOUT_STEPS[0])
        self.long_frame_bytes = step_frame_size(LONG_STEPS[0])
        self.results: list[dict[str, Any]] = []
        self.load: Load
        self.cfloor: Path | None = None

    async def main(self) -> dict[str, Any]:
        system.raise_open_files()
        if self.load_cpus:
            system.pin(0, self.load_cpus)
        self.plan.out.mkdir(parents=True, exist_ok=True)
        if any(t.kind == "cfloor" for t in self.plan.targets):
            from bench.cfloor import build

            self.cfloor = build(self.plan.out / "bin")  # before anything runs: fails clearly
        started = time.time()
        meta = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "quick": self.plan.quick,
            "sizes": self.plan.sizes,
            "scenarios": sorted(self.plan.scenarios),
            "targets": {t.name: t.label for t in self.plan.targets},
            "workers": self.plan.workers,
            "server_cpus": self.server_cpus,
            "load_cpus": self.load_cpus,
            "frame_bytes": self.frame_bytes,
            "slow_every": SLOW_EVERY,
            "machine": system.machine(),
            "server_revision": system.revision(str(ROOT)),
        }
        total = len(self.plan.sizes) * len(self.plan.targets)
        done = 0
        for n in self.plan.sizes:
            for target in self.plan.targets:
                done += 1
                self.say(f"[{done:2}/{total}] {target.name:15} n={n:<6} starting "
                         f"(load average {system.load_average()[0]:.2f})")
                # Fresh load workers for every measurement: nothing a previous target left in
                # them (heaps grown by 10,000 sockets, sockets still closing) weighs on the next.
                self.load = Load(self.plan.workers, self.load_cpus)
                try:
                    self.results.append(await self.one(target, n))
                finally:
                    self.load.stop()
        meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        meta["seconds"] = round(time.time() - started, 1)
        meta["load_average_end"] = system.load_average()
        return {"meta": meta, "results": self.results}

    async def one(self, target: Target, n: int) -> dict[str, Any]:
        run = Run(self, target, n)
        record: dict[str, Any] = {"target": target.name, "label": target.label, "size": n}
        scenarios = self.plan.scenarios
        try:
            await run.start()
            record["connect"] = await run.connect()
            record["memory"] = run.memory
            if target.redis:
                before = await run.redis_calls()
            rounds = self.plan.rounds_for(n)
            commands = await run.command_seconds() if target.attune else None
            record["fanout"] = await run.fanout(rounds)
            if commands is not None:
                spent, count = (b - a for a, b in zip(commands, await run.command_seconds(),
                                                      strict=True))
                record["fanout"]["command_ms"] = round(spent / count * 1000, 3) if count else None
            self.say(f"        fan-out  last {record['fanout']['last_ms']:8.1f} ms  "
                     f"p99 {record['fanout']['p99_ms']:8.1f} ms  "
                     f"{record['fanout']['frames_per_s']:>8} frames/s  "
                     f"server {record['fanout']['server_cpu_us_per_frame']} us/frame "
                     f"(busy {record['fanout']['server_busy']:.0%})  "
                     f"{record['memory']['kib_per_connection']} KiB/conn")
            if target.redis:
                after = await run.redis_calls()
                events = rounds + 1
                record["redis"] = {
                    "nodes": target.nodes,
                    "events": events,
                    "publish_per_event": round((after.get("publish", 0)
                                                - before.get("publish", 0)) / events, 2),
                    "evalsha_per_event": round((after.get("evalsha", 0)
                                                - before.get("evalsha", 0)) / events, 2),
                }
            if target.client != "socketio" and "ingest" in scenarios:
                record["ingest"] = await run.ingest(self.plan.ingest_rounds)
                i = record["ingest"]
                projector = f"projector +{i['projector_after_last_send_ms']} ms after the " \
                    "last answer sent  " if target.attune else ""
                self.say(f"        ingest   {i['answers_per_s']} answers/s  {projector}"
                         f"server {i['server_cpu_us_per_answer']} us/answer")
            if target.name in PROFILED and self.plan.profile and n == max(self.plan.sizes):
                record["profile"] = {
                    "fanout": await run.profile("fanout", max(6, self.plan.rounds_for(n))),
                    "ingest": await run.profile("ingest", 2),
                }
                self.say("        profiled fan-out and ingest with py-spy")
            if target.name in SLOW and "slow" in scenarios:
                record["slow"] = await run.slow()
                s = record["slow"]
                self.say(f"        slow     {s['paused']} paused: healthy p99 x{s['p99_ratio']}, "
                         f"rate x{s['rate_ratio']}, server RSS +{s['rss_growth_mb']} MB, "
                         f"closed {s['closed_by_server']}")
            if target.sqlite and "restart" in scenarios:
                record["restart"] = await run.restart()
                s = record["restart"]
                self.say(f"        restart  server ready in {s['server_ready_ms']} ms, "
                         f"{s['resumed']}/{s['attempted']} resumed, all within "
                         f"{s['restart_to_all_resumed_ms']} ms of the kill (replayed "
                         f"{s['replays']}, snapshots {s['snapshots']})")
            if target.attune and not target.redis and not target.sqlite \
                    and "storm" in scenarios:
                record["storm"] = await run.storm()
                s = record["storm"]
                self.say(f"        storm    {s['resumed']}/{s['attempted']} resumed, 99% in "
                         f"{s['time_to_99_ms']} ms (replayed {s['replays']})")
                if target.name in PROFILED and self.plan.profile and n == max(self.plan.sizes):
                    record["profile"]["storm"] = await run.profile("storm", 1)
                    self.say("        profiled a second storm with py-spy")
        except Exception as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
            self.say(f"        FAILED: {record['error']}")
        finally:
            await run.stop()
        return record
