"""The node's folding of delivered entries, with a backend whose reads can be made to lag."""

from __future__ import annotations

import asyncio

from attune.backends.memory import MemoryBackend
from attune.config import Settings
from attune.core.session import Joined, entry_encoder
from attune.metrics import Metrics
from attune.node import Node
from tests.support.sessions import make


class LaggingBackend(MemoryBackend):
    """Reads wait until released, as a Redis read under load would."""

    def __init__(self) -> None:
        super().__init__(retention_s=60)
        self.release = asyncio.Event()
        self.release.set()

    async def read(self, session_id: str, after: int) -> list[tuple[int, bytes]]:
        found = await super().read(session_id, after)
        await self.release.wait()
        return found


async def test_entries_heard_during_a_catch_up_are_not_lost() -> None:
    backend = LaggingBackend()
    node = Node(backend, Settings(), Metrics())
    await node.start()
    info = make().info
    await backend.create(info.id, info.code, entry_encoder.encode(info))
    replica = await node.replica(info.id)
    assert replica is not None
    await backend.unsubscribe(info.id)  # deliver by hand, out of turn
    raws = [entry_encoder.encode(Joined(at=0, participant=f"p{i}", token_hash="h"))
            for i in range(4)]
    backend.release.clear()
    for raw in raws[:2]:
        await backend.append(info.id, raw)
    node.deliver(info.id, 2, raws[1])  # a gap: a catch-up starts and its read lags
    await asyncio.sleep(0.01)
    for raw in raws[2:]:
        await backend.append(info.id, raw)
    node.deliver(info.id, 4, raws[3])  # heard while the read is still under way
    backend.release.set()
    for _ in range(100):
        if replica.offset == 4:
            break
        await asyncio.sleep(0.01)
    assert replica.offset == 4 and len(replica.session.participants) == 4
    await node.stop()
