"""Prometheus metrics, one registry per server so that tests can run several in one process."""

from __future__ import annotations

from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

M = TypeVar("M", Counter, Gauge)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.errors = Counter(
            "attune_errors", "Client messages refused, by error code", ["code"],
            registry=self.registry,
        )
        self.closes = Counter(
            "attune_closes", "Connections closed by the server, by close code", ["code"],
            registry=self.registry,
        )
        self.messages = Counter(
            "attune_messages", "Client messages received, by type", ["type"],
            registry=self.registry,
        )
        self.connections = Gauge(
            "attune_connections", "Open WebSocket connections, by role", ["role"],
            registry=self.registry,
        )
        self.sessions = Gauge(
            "attune_live_sessions", "Sessions with connections on this node",
            registry=self.registry,
        )
        self.sessions_created = Counter(
            "attune_sessions_created", "Sessions created on this node", registry=self.registry
        )
        self.command_latency = Histogram(
            "attune_command_seconds",
            "From a facilitator command reaching this node to the start of its broadcast here "
            "(through the backend's log and back)",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )
        self._series: dict[tuple[int, str], Counter | Gauge] = {}

    def series(self, metric: M, label: str) -> M:
        """``metric.labels(label)``, looked up once: ``labels()`` validates and locks on every
        call, which was a few percent of what an answer or a resume costs."""
        key = (id(metric), label)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = metric.labels(label)
        return found  # type: ignore[return-value]

    def render(self) -> bytes:
        return generate_latest(self.registry)
