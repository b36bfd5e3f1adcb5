"""Prometheus metrics, one registry per server so that tests can run several in one process.

The counters a message touches on its way in (``attune_messages``, ``attune_errors``,
``attune_closes``) are ``Tally`` families: each labelled child is a plain number that
``/metrics`` reads when it is scraped, so counting an answer costs one addition instead of a
``prometheus_client`` lock and value object (measured in ``bench/``, see docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import overload

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector


class Count:
    """One labelled child of a ``Tally``: a number only this process's event loop adds to."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def inc(self, amount: int = 1) -> None:
        self.value += amount


class Tally(Collector):
    """A counter family with one label, exposed as ``NAME_total{label="..."}``."""

    def __init__(self, name: str, documentation: str, label: str,
                 registry: CollectorRegistry) -> None:
        self.name = name
        self.documentation = documentation
        self.label = label
        self.children: dict[str, Count] = {}
        registry.register(self)

    def labels(self, value: str) -> Count:
        child = self.children.get(value)
        if child is None:
            child = self.children[value] = Count()
        return child

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=[self.label])
        for value, child in list(self.children.items()):
            family.add_metric([value], float(child.value))
        yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.errors = Tally(
            "attune_errors", "Client messages refused, by error code", "code", self.registry,
        )
        self.closes = Tally(
            "attune_closes", "Connections closed by the server, by close code", "code",
            self.registry,
        )
        self.messages = Tally(
            "attune_messages", "Client messages received, by type", "type", self.registry,
        )
        self.group_fanouts = Tally(
            "attune_group_fanouts", "Fan-outs that give every phone its own group view "
            "(forming, a new round, entering a groups step), by whether the frames were joined "
            "ahead (a forming worked out while the room was still) or then", "frames",
            self.registry,
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
        self._series: dict[tuple[int, str], Count | Gauge] = {}

    @overload
    def series(self, metric: Tally, label: str) -> Count: ...
    @overload
    def series(self, metric: Gauge, label: str) -> Gauge: ...

    def series(self, metric: Tally | Gauge, label: str) -> Count | Gauge:
        """``metric.labels(label)``, looked up once: a Gauge's ``labels()`` validates and locks
        on every call, which was a few percent of what an answer or a resume costs."""
        key = (id(metric), label)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = metric.labels(label)
        return found

    def render(self) -> bytes:
        return generate_latest(self.registry)
