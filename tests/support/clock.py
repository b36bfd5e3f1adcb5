"""A clock a test moves forward: the node's session time (``attune.clock.Clock``) as the real
time plus an offset.

``advance(seconds)`` makes the node see that much more time pass: a resume window runs out, a
countdown reaches zero and its timer runs at once. Everything else keeps real time, and a timer
nobody advanced to still runs when its real time comes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class _Timer:
    def __init__(self, due_ms: float, callback: Callable[[], None], seconds: float) -> None:
        self.due_ms = due_ms
        self.callback = callback
        self.done = False
        self.handle = asyncio.get_running_loop().call_later(seconds, self.fire)

    def fire(self) -> None:
        if not self.done:
            self.done = True
            self.handle.cancel()
            self.callback()

    def cancel(self) -> None:
        self.done = True
        self.handle.cancel()


class MovableClock:
    def __init__(self) -> None:
        self.offset_ms = 0.0
        self._timers: list[_Timer] = []

    def now_ms(self) -> float:
        return time.time() * 1000 + self.offset_ms

    def call_later(self, seconds: float, callback: Callable[[], None]) -> _Timer:
        timer = _Timer(self.now_ms() + seconds * 1000, callback, seconds)
        self._timers = [t for t in self._timers if not t.done] + [timer]
        return timer

    def advance(self, seconds: float) -> None:
        """Move session time forward and run every timer now due, earliest first."""
        self.offset_ms += seconds * 1000
        now = self.now_ms()
        for timer in sorted(self._timers, key=lambda t: t.due_ms):
            if timer.due_ms <= now:
                timer.fire()
        self._timers = [t for t in self._timers if not t.done]
