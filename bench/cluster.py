"""``python -m bench.cluster``: the path to a million, measured on loopback.

A 3-shard Redis Cluster and three Attune nodes, several sessions whose ids (their keys' hash
tags) spread them over the shards, each session's participants split evenly over the nodes and
its facilitator on one of them. For each size it measures, per node and per shard, from
``/proc`` (CPU time of each process, as ``bench.run`` does):

- CPU per participant to connect and join, and per participant-second while idle;
- per broadcast: every facilitator moves its session on at once, every participant receives the
  step; CPU per broadcast and per delivered frame on the nodes, per broadcast on the shards, and
  Redis ``PUBLISH`` calls per event per session (``INFO commandstats`` on every shard);
- per answer: every participant answers at once; CPU per answer on the nodes and shards, the
  script calls and publishes that took, and when each facilitator's ``results`` showed the count;
- the load processes' CPU, so a figure limited by the clients would show.

    python -m bench.cluster                          # 1,000 / 5,000 / 10,000, 6 sessions
    python -m bench.cluster --sizes 12000 --sessions 1   # one session over three nodes
    python -m bench.cluster --placement affinity        # each session on one node

Results go to ``bench/results/cluster-DATE.json``; docs/capacity.md is written from them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

from redis import Redis

from bench import system
from bench.loadgen import Load
from bench.run import Watcher, floats, median, pct
from bench.targets import FANOUT_STEPS, FIRST_SCALE, ROOT, ServerProcess, create_session
from bench.wsclient import Client
from tests.support.redis_cluster import RedisClusterProcesses

NODES = 3
SLOTS = 16384
CONCURRENCY = 32
"""Handshakes and hellos in flight per load worker: joins through the Cluster cost a few
Redis calls each, and a hello that waits longer than the hello timeout is closed (4001)."""


def shard_of(slot: int) -> int:
    """The shard ``tests.support.redis_cluster`` gives a slot: each holds a third of the range."""
    return min(slot // (SLOTS // 3), 2)


class Measure:
    """CPU seconds of a set of processes between two moments."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start = self.read()

    def read(self) -> dict[str, float]:
        return {name: system.cpu_seconds(pid) for name, pid in self.pids.items()}

    def spent(self) -> dict[str, float]:
        now = self.read()
        return {name: now[name] - self.start[name] for name in now}


def _us(seconds: float, count: int) -> float | None:
    return round(seconds / count * 1e6, 2) if count else None


class ClusterRun:
    """One size: the cluster, the nodes, the sessions and the load."""

    def __init__(self, n: int, sessions: int, workers: int, out: Path,
                 placement: str = "spread") -> None:
        self.n = n
        self.placement = placement
        """``spread``: every session's participants split over every node; ``affinity``: each
        session on one node (its facilitator's), sessions spread over the nodes."""
        self.out = out
        self.server_cpus, self.load_cpus = system.plan_cpus(True)
        self.cluster = RedisClusterProcesses(out / "cluster" / f"{n}-{time.time_ns()}")
        self.nodes: list[ServerProcess] = []
        self.load = Load(workers, self.load_cpus)
        self.sessions = sessions
        self.created: list[dict[str, str]] = []
        self.shards: list[int] = []
        """Shard of each session."""
        self.hosts: list[Client] = []
        self.watchers: list[Watcher] = []
        self.per_session: list[list[int]] = []
        """Participants of each session on each node."""

    @property
    def pids(self) -> dict[str, int]:
        pids = {f"node{i}": node.pid for i, node in enumerate(self.nodes)}
        pids |= {f"shard{i}": process.pid for i, process in enumerate(self.cluster.processes)}
        pids |= {f"load{i}": pid for i, pid in enumerate(self.load.pids)}
        return pids

    def _redis(self, shard: int) -> Redis:
        return Redis(port=self.cluster.ports[shard])

    def commandstats(self) -> list[Counter[str]]:
        stats = []
        for shard in range(NODES):
            client = self._redis(shard)
            try:
                info = client.info("commandstats")
            finally:
                client.close()
            stats.append(Counter({k.removeprefix("cmdstat_"): int(v["calls"])
                                  for k, v in info.items()}))
        return stats

    async def start(self) -> None:
        self.cluster.start()
        if self.load_cpus:
            for process in self.cluster.processes:
                system.pin(process.pid, self.load_cpus)
        log = self.out / "logs" / f"cluster-{self.n}.log"
        for _ in range(NODES):
            node = ServerProcess("attune", ["--backend", self.cluster.url], self.server_cpus, log)
            await asyncio.to_thread(node.start)
            self.nodes.append(node)
        # Session ids are random, and so are their hash tags' shards: sessions are created
        # until every shard holds its share (the spare ones stay idle and cost nothing).
        wanted = [self.sessions // NODES + (1 if i < self.sessions % NODES else 0)
                  for i in range(NODES)]
        client = self._redis(0)
        try:
            for _ in range(20 * self.sessions):
                if len(self.created) == self.sessions:
                    break
                created = await asyncio.to_thread(create_session, self.nodes[0].api)
                slot = int(client.cluster("KEYSLOT", f"attune:{{{created['session']}}}:log"))
                shard = shard_of(slot)
                if self.shards.count(shard) < wanted[shard]:
                    self.created.append(created)
                    self.shards.append(shard)
        finally:
            client.close()
        loop = asyncio.get_running_loop()
        for i, created in enumerate(self.created):
            watcher = Watcher()
            host = Client(loop, watcher, "attune")
            await host.connect("127.0.0.1", self.nodes[i % NODES].port, "/ws")
            host.send(json.dumps({"type": "hello", "role": "facilitator",
                                  "session": created["session"],
                                  "token": created["token"]}).encode())
            await asyncio.wait_for(host.welcomed, 10)
            host.send(b'{"type":"start"}')
            self.hosts.append(host)
            self.watchers.append(watcher)
        await self.wait_seq(1)

    async def wait_seq(self, seq: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while any(h.seq < seq for h in self.hosts) and time.monotonic() < deadline:
            await asyncio.sleep(0.002)

    async def connect(self) -> dict[str, Any]:
        """Every session's participants, split over the nodes and the load workers."""
        workers = len(self.load.handles)
        share = self.n // self.sessions
        rss_before = [node.rss() for node in self.nodes]
        measure = Measure(self.pids)
        started = time.perf_counter()
        failed: Counter[str] = Counter()
        connected = 0
        for s, created in enumerate(self.created):
            hello = json.dumps({"type": "hello", "role": "participant", "code": created["code"]})
            counts: list[int] = []
            for node in range(NODES):
                if self.placement == "affinity":
                    count = share if node == s % NODES else 0
                else:
                    # The remainder goes to a different node for each session.
                    count = share // NODES + (1 if (node - s) % NODES < share % NODES else 0)
                parts = [count // workers + (1 if w < count % workers else 0)
                         for w in range(workers)]
                if not count:
                    counts.append(0)
                    continue
                replies = await self.load.each(
                    "connect", shares=[{"n": k} for k in parts], host="127.0.0.1",
                    port=self.nodes[node].port, kind="attune", path="/ws", hello=hello,
                    slow_every=0, concurrency=CONCURRENCY)
                counts.append(sum(reply["connected"] for reply in replies))
                for reply in replies:
                    failed.update(reply["failed"])
            connected += sum(counts)
            self.per_session.append(counts)
        seconds = time.perf_counter() - started
        spent = measure.spent()
        rss = {i: node.rss() - rss_before[i] for i, node in enumerate(self.nodes)}
        idle = Measure(self.pids)
        await asyncio.sleep(3.0)
        idle_spent = idle.spent()
        per_node = [sum(c[i] for c in self.per_session) for i in range(NODES)]
        return {
            "connected": connected, "failed": dict(failed), "seconds": round(seconds, 2),
            "join_us_per_participant": {
                name: _us(cpu, per_node[int(name[4:])] if name.startswith("node")
                          else connected)
                for name, cpu in spent.items()},
            "idle_us_per_participant_second": {
                name: _us(cpu / 3.0, per_node[int(name[4:])]) for name, cpu in idle_spent.items()
                if name.startswith("node")},
            "rss_kib_per_participant": {
                f"node{i}": round(grown / 1024 / per_node[i], 2) if per_node[i] else None
                for i, grown in rss.items()},
            "participants_per_node": per_node,
        }

    def trigger(self, step: int) -> None:
        for host in self.hosts:
            host.send(b'{"type":"goto","step":%d}' % step)

    async def broadcast(self, step: int) -> dict[str, Any]:
        seq = max(h.seq for h in self.hosts) + 1
        self.trigger(step)
        replies = await self.load.each("wait_round", seq=seq, timeout=30 + self.n / 500)
        await self.wait_seq(seq)
        kernel = floats([r["kernel"] for r in replies])
        return {"expected": sum(r["expected"] for r in replies), "kernel": kernel}

    async def fanout(self, rounds: int) -> dict[str, Any]:
        await self.broadcast(FANOUT_STEPS[1])
        await asyncio.sleep(0.2)
        before = self.commandstats()
        measure = Measure(self.pids)
        lasts, pooled, received = [], [], 0
        for i in range(rounds):
            got = await self.broadcast(FANOUT_STEPS[i % 2])
            pooled += got["kernel"]
            received += len(got["kernel"])
            lasts.append(max(got["kernel"]) if got["kernel"] else math.nan)
            await asyncio.sleep(0.05)
        spent = measure.spent()
        after = self.commandstats()
        events = rounds * self.sessions
        per_shard_events = [rounds * self.shards.count(i) for i in range(NODES)]
        publishes = [after[i]["publish"] - before[i]["publish"] for i in range(NODES)]
        per_node_frames = [rounds * sum(c[i] for c in self.per_session) for i in range(NODES)]
        return {
            "rounds": rounds, "events": events, "received": received,
            "expected": rounds * sum(map(sum, self.per_session)),
            "last_ms": round(median(lasts), 2), "p50_ms": round(median(pooled), 2),
            "p99_ms": round(pct(pooled, 0.99), 2),
            "node_us_per_frame": {f"node{i}": _us(spent[f"node{i}"], per_node_frames[i])
                                  for i in range(NODES)},
            "node_us_per_broadcast": {f"node{i}": _us(spent[f"node{i}"], events)
                                      for i in range(NODES)},
            "shard_us_per_broadcast": {f"shard{i}": _us(spent[f"shard{i}"],
                                                        per_shard_events[i])
                                       for i in range(NODES)},
            "publishes_per_event_per_session": round(sum(publishes) / events, 3),
            "publishes_per_shard": publishes,
            "events_per_shard": per_shard_events,
            "load_us_per_frame": _us(sum(v for k, v in spent.items() if k.startswith("load")),
                                     received),
            "load_busy": round(sum(v for k, v in spent.items() if k.startswith("load"))
                               / max(1e-9, sum(lasts) / 1000)
                               / len(self.load_cpus or system.cpus()), 3),
        }

    async def ingest(self, rounds: int) -> dict[str, Any]:
        records = []
        for r in range(rounds):
            step = FIRST_SCALE + r
            await self.broadcast(step)
            await asyncio.sleep(0.3)
            for watcher in self.watchers:
                watcher.results.clear()
            before = self.commandstats()
            measure = Measure(self.pids)
            replies = await self.load.each("answer", step=step, timeout=30 + self.n / 200)
            acked = sum(reply["acked"] for reply in replies)
            errors: Counter[str] = Counter()
            for reply in replies:
                errors.update(reply["errors"])
            last_send = max(reply["last_send"] for reply in replies)
            first = min(reply["first_send"] for reply in replies)
            acks = floats([reply["acks"] for reply in replies])
            wanted = [sum(counts) for counts in self.per_session]
            complete: list[float | None] = [None] * self.sessions
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and None in complete:
                for s, watcher in enumerate(self.watchers):
                    if complete[s] is None:
                        done = [k for st, c, k in watcher.results if st == step and c >= wanted[s]]
                        complete[s] = done[0] if done else None
                await asyncio.sleep(0.002)
            spent = measure.spent()
            after = self.commandstats()
            per_node = [sum(c[i] for c in self.per_session) for i in range(NODES)]
            per_shard = [sum(wanted[s] for s in range(self.sessions) if self.shards[s] == i)
                         for i in range(NODES)]
            calls = [after[i]["evalsha"] - before[i]["evalsha"] for i in range(NODES)]
            publishes = [after[i]["publish"] - before[i]["publish"] for i in range(NODES)]
            span = (max(acks) - first) / 1000 if acks else math.nan
            records.append({
                "step": step, "acked": acked, "errors": dict(errors),
                "answers_per_s": round(acked / span) if span > 0 else None,
                "projector_after_last_send_ms": round(max(c for c in complete if c) - last_send, 1)
                if all(complete) else None,
                "node_us_per_answer": {f"node{i}": _us(spent[f"node{i}"], per_node[i])
                                       for i in range(NODES)},
                # Every node with a replica of a session folds every answer of it, its own
                # participants' or not.
                "node_us_per_folded_answer": {
                    f"node{i}": _us(spent[f"node{i}"], sum(
                        wanted[s] for s in range(self.sessions)
                        if self.per_session[s][i] or s % NODES == i))
                    for i in range(NODES)},
                "shard_us_per_answer": {f"shard{i}": _us(spent[f"shard{i}"], per_shard[i])
                                        for i in range(NODES)},
                "script_calls": sum(calls), "publishes": sum(publishes),
                "answers_per_publish": round(acked / sum(publishes), 1) if sum(publishes) else None,
                "load_us_per_answer": _us(sum(v for k, v in spent.items()
                                              if k.startswith("load")), acked),
            })
            await asyncio.sleep(0.2)
        return {"rounds": records}

    async def stop(self) -> None:
        try:
            await self.load.each("close_all")
        finally:
            for host in self.hosts:
                host.abort()
            self.load.stop()
            for node in self.nodes:
                node.stop()
            self.cluster.stop()


async def measure(n: int, sessions: int, workers: int, rounds: int, ingest_rounds: int,
                  out: Path, say: Any, placement: str) -> dict[str, Any]:
    run = ClusterRun(n, sessions, workers, out, placement)
    record: dict[str, Any] = {"size": n, "sessions": sessions, "placement": placement}
    try:
        await run.start()
        record["shards_of_sessions"] = run.shards
        record["connect"] = await run.connect()
        c = record["connect"]
        say(f"  n={n:<6} {c['connected']} joined over {NODES} nodes in {c['seconds']} s; "
            f"join us/participant {c['join_us_per_participant']}")
        record["fanout"] = await run.fanout(rounds)
        f = record["fanout"]
        say(f"          broadcast: last {f['last_ms']} ms, node us/frame "
            f"{f['node_us_per_frame']}, shard us/broadcast {f['shard_us_per_broadcast']}, "
            f"publishes per event per session {f['publishes_per_event_per_session']}")
        record["ingest"] = await run.ingest(ingest_rounds)
        for i in record["ingest"]["rounds"]:
            say(f"          ingest: {i['acked']} acked, node us/answer {i['node_us_per_answer']}"
                f", shard us/answer {i['shard_us_per_answer']}, {i['script_calls']} script "
                f"calls, {i['publishes']} publishes, projector +{i['projector_after_last_send_ms']}"
                f" ms")
    except Exception as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
        say(f"          FAILED: {record['error']}")
    finally:
        await run.stop()
    return record


def _mean(values: dict[str, float | None], prefix: str) -> float | None:
    found = [v for k, v in values.items() if k.startswith(prefix) and v is not None]
    return round(sum(found) / len(found), 2) if found else None


def summary(results: list[dict[str, Any]]) -> str:
    """One Markdown row per size: the mean over nodes and over shards of each figure (the
    JSON has every node and shard)."""
    head = ["participants", "sessions", "placement", "join us/participant (node, shard)",
            "idle us/participant-s (node)", "KiB/participant (node)", "us/frame (node)",
            "us/broadcast (shard)", "publishes/event/session", "us/answer (node, own)",
            "us/folded answer (node)", "us/answer (shard)", "answers/publish",
            "load us/answer", "projector after last answer ms"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in results:
        if "error" in r:
            rows.append(f"| {r['size']:,} | {r['sessions']} | failed: {r['error'][:60]} |")
            continue
        c, f = r["connect"], r["fanout"]
        i = r["ingest"]["rounds"][-1]
        cells = [f"{r['size']:,}", str(r["sessions"]), r.get("placement", "spread"),
                 f"{_mean(c['join_us_per_participant'], 'node')}, "
                 f"{_mean(c['join_us_per_participant'], 'shard')}",
                 str(_mean(c["idle_us_per_participant_second"], "node")),
                 str(_mean(c["rss_kib_per_participant"], "node")),
                 str(_mean(f["node_us_per_frame"], "node")),
                 str(_mean(f["shard_us_per_broadcast"], "shard")),
                 str(f["publishes_per_event_per_session"]),
                 str(_mean(i["node_us_per_answer"], "node")),
                 str(_mean(i["node_us_per_folded_answer"], "node")),
                 str(_mean(i["shard_us_per_answer"], "shard")),
                 str(i["answers_per_publish"]), str(i["load_us_per_answer"]),
                 str(i["projector_after_last_send_ms"])]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="broadcast rounds")
    parser.add_argument("--ingest-rounds", type=int, default=2)
    parser.add_argument("--placement", choices=("spread", "affinity"), default="spread",
                        help="each session over every node, or each on one node")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    system.raise_open_files()
    _, load_cpus = system.plan_cpus(True)
    if load_cpus:
        system.pin(0, load_cpus)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y%m%d-%H%M%S")
    meta = {"started": started, "machine": system.machine(),
            "server_revision": system.revision(str(ROOT)), "sessions": args.sessions,
            "nodes": NODES, "shards": NODES, "placement": args.placement,
            "load_average_at_start": system.load_average()}
    print(f"cluster benchmark: {NODES} nodes, {NODES} shards, {args.sessions} sessions "
          f"(load average {system.load_average()[0]:.2f})", flush=True)
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        results.append(asyncio.run(measure(n, args.sessions, args.workers, args.rounds,
                                           args.ingest_rounds, args.out,
                                           lambda line: print(line, flush=True),
                                           args.placement)))
    meta["load_average_end"] = system.load_average()
    path: Path = args.out / f"cluster-{started}.json"
    path.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    print(summary(results))
    print(f"results: {path}")
    return path


if __name__ == "__main__":
    main()
