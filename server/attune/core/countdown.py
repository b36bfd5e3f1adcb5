"""Countdowns on answer steps: close responses at zero (and reveal, if asked), with pause,
resume and more time, all on the server clock. A scenario's ``timer`` step runs on the same
clock, started when the step is entered, so it pauses and takes more time alike; its zero ends
nothing on the server (the step stays until the facilitator moves on), so no node times it.

A countdown is a ``p.Clock``: either running (``deadline``, server ms) or paused (``left``, ms).
Every device shows the same time left because every device computes it from the same deadline
and its estimate of the server clock. Nothing here has a timer: a node that holds the session
schedules the end for the deadline and appends an ``Expired`` entry then; the session applies it
only if that countdown is still the one running (``current``), so several nodes appending it, or
a late one after a pause, change nothing.
"""

from __future__ import annotations

from attune.core import protocol as p
from attune.core.errors import Refused

MIN_SECONDS = 5
MAX_SECONDS = 3600


def start(at: float, seconds: int, reveal: bool) -> p.Clock:
    return p.Clock(deadline=at + seconds * 1000, reveal=reveal)


def pause(clock: p.Clock | None, at: float) -> p.Clock:
    running = _need(clock)
    if running.deadline is None:
        return running
    return p.Clock(left=max(0.0, running.deadline - at), reveal=running.reveal)


def resume(clock: p.Clock | None, at: float) -> p.Clock:
    paused = _need(clock)
    if paused.left is None:
        return paused
    return p.Clock(deadline=at + paused.left, reveal=paused.reveal)


def extend(clock: p.Clock | None, seconds: int, at: float) -> p.Clock:
    """More time from what is left, or from now once the deadline has passed (a timer step
    at zero: "+30 s" means thirty more seconds, not a deadline still in the past)."""
    now = _need(clock)
    more = seconds * 1000
    if now.deadline is not None:
        return p.Clock(deadline=max(now.deadline, at) + more, reveal=now.reveal)
    return p.Clock(left=(now.left or 0.0) + more, reveal=now.reveal)


def current(clock: p.Clock | None, deadline: float) -> bool:
    """Whether an ``Expired`` entry for ``deadline`` ends the countdown running now."""
    return clock is not None and clock.deadline == deadline


def _need(clock: p.Clock | None) -> p.Clock:
    if clock is None:
        raise Refused("no-countdown", "No countdown is running on this step.")
    return clock
