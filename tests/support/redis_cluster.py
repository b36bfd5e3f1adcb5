"""A real Redis Cluster for tests: three servers, each master of a third of the slots, joined
with CLUSTER MEET on free loopback ports (no redis-cli needed)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

from tests.support.redis_server import _binary as redis_binary
from tests.support.servers import free_port


def quietly(check: Callable[[], bool]) -> bool:
    """The check's answer, or False while the server is not answering yet."""
    try:
        return check()
    except redis.RedisError:
        return False


class PortTaken(Exception):
    """A cluster node exited as it started: one of its ports was taken meanwhile."""


class RedisClusterProcesses:
    """Three Redis servers joined into one Cluster, each master of a third of the slots."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ports = [free_port() for _ in range(3)]
        self.bus_ports = [free_port() for _ in range(3)]
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0?cluster=yes"

    def start(self) -> None:
        """Start the three servers and join them. A free port can be taken between choosing it
        and binding it (another test process chooses too): a server that exits at once is
        started again, with every port chosen anew, up to three times."""
        for attempt in range(3):
            try:
                self._start()
                return
            except PortTaken:
                self.stop()
                self.ports = [free_port() for _ in range(3)]
                self.bus_ports = [free_port() for _ in range(3)]
                if attempt == 2:
                    raise

    def _start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for port, bus in zip(self.ports, self.bus_ports, strict=True):
            self.processes.append(subprocess.Popen(
                [redis_binary(), "--bind", "127.0.0.1", "--port", str(port),
                 "--cluster-enabled", "yes", "--cluster-port", str(bus),
                 "--cluster-config-file", f"nodes-{port}.conf", "--dir", str(self.folder),
                 "--save", "", "--appendonly", "no", "--protected-mode", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        clients = [redis.Redis(port=port) for port in self.ports]
        try:
            deadline = time.monotonic() + 10
            for client in clients:
                while not quietly(lambda c=client: bool(c.ping())):  # type: ignore[misc]
                    if any(process.poll() is not None for process in self.processes):
                        raise PortTaken("a cluster node exited at start")
                    assert time.monotonic() < deadline, "cluster nodes did not start"
                    time.sleep(0.02)
            third = 16384 // 3
            for i, client in enumerate(clients):
                high = 16383 if i == 2 else (i + 1) * third - 1
                client.cluster("ADDSLOTSRANGE", i * third, high)
            for port, bus in zip(self.ports[1:], self.bus_ports[1:], strict=True):
                clients[0].cluster("MEET", "127.0.0.1", port, bus)
            while not all(quietly(lambda c=c: c.cluster("info")["cluster_state"] == "ok"  # type: ignore[misc]
                                   and int(c.cluster("info")["cluster_known_nodes"]) == 3)
                          for c in clients):
                assert time.monotonic() < deadline, "the cluster did not form"
                time.sleep(0.05)
        finally:
            for client in clients:
                client.close()

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
            process.wait(10)
        self.processes = []
