"""Time as a node sees it: wall-clock milliseconds for the session log, and timers for the
countdowns it ends.

One small interface, passed to the node, so a test moves time forward (a resume window running
out, a countdown reaching zero) instead of sleeping through it; ``attune serve`` runs on
``SystemClock``. Timers that only pace I/O (coalescing pushes, heartbeats) stay on the event
loop: they are not about the session's time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now_ms(self) -> float:
        """Wall-clock time in milliseconds since the epoch: what log entries carry as ``at``."""
        ...

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` once ``seconds`` have passed on this clock."""
        ...


class SystemClock:
    """The real time and the running event loop's timers."""

    def now_ms(self) -> float:
        return time.time() * 1000

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(seconds, callback)
