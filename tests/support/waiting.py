"""Waiting on conditions with deadlines: tests wait for what they expect, never for a fixed time."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import TypeVar

from attune.client import Client
from attune.core import protocol as p

T = TypeVar("T", bound=p.Message)


async def until(check: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Wait until ``check()`` (or the coroutine it returns) is true, polling every 10 ms; fail
    saying what was awaited once ``timeout`` seconds have passed. Tests wait on conditions, never
    for a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        await asyncio.sleep(0.01)


async def latest(client: Client, kind: type[T], where: Callable[[T], bool]) -> T:
    """The newest message of a kind, once the newest matches (pushes are coalesced, so earlier
    states may or may not have been sent)."""

    def newest() -> T | None:
        found = [m for m in client.seen if isinstance(m, kind)]
        return found[-1] if found else None

    await until(lambda: (m := newest()) is not None and where(m), f"a {kind.__name__} matches", 5)
    found = newest()
    assert found is not None
    return found


