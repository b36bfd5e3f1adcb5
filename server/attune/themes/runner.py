"""The event loop's side of the grouper: hand texts to the worker process, never wait on it.

``note`` is called as each free-text answer is folded: it only appends to a list, and a timer
sends the list to the worker in one batch, so a burst of a thousand answers costs the loop a few
pickles, not a thousand forward passes. While the worker is still embedding one batch the next
keeps growing, and it is sent when the first is done: the busier the worker, the larger its
batches, and a batch costs less per answer than one answer alone. ``group`` and ``split`` send
what is pending and await the worker's answer; the worker runs one task at a time in order, so a
grouping finds every earlier answer embedded. In the background the worker embeds only while the
event loop is quiet, in an idle helper process (``worker.embed``); a shared counter of awaited
groupings tells it to hurry, and the time the first of them was asked for tells the worker when
to stop waiting for its helper.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor

from attune.core import themes as th
from attune.core.errors import Refused
from attune.themes import worker

FLUSH_AFTER = 0.05
"""Seconds answers wait to travel to the worker together."""

log = logging.getLogger("attune.themes")


class Grouper:
    model = worker.MODEL

    def __init__(self) -> None:
        # spawn, not fork: the server's process has an event loop and threads a fork would copy.
        spawn = multiprocessing.get_context("spawn")
        self._urgent = spawn.RawValue(ctypes.c_int, 0)
        """Groupings awaited: the worker embeds without waiting for the loop to be quiet."""
        self._since = spawn.RawValue(ctypes.c_double, 0.0)
        """When the first of the groupings awaited was asked for (``time.monotonic``)."""
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=spawn,
            initializer=worker.start, initargs=(os.getpid(), self._urgent, self._since),
        )
        self._pending: list[str] = []
        self._flush: asyncio.TimerHandle | None = None
        self._busy = False
        """A batch is with the worker; the next one waits and grows."""
        # Start the process and load the model now, not on the first answer of a session.
        self._pool.submit(worker.embed, []).add_done_callback(_log_failure)

    def note(self, text: str) -> None:
        """Embed ``text`` soon, in the worker, so a later grouping need not."""
        self._pending.append(text)
        if self._flush is None and not self._busy:
            self._flush = asyncio.get_running_loop().call_later(FLUSH_AFTER, self._send)

    def _send(self) -> None:
        self._flush = None
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self._busy = True
        loop = asyncio.get_running_loop()
        future = self._pool.submit(worker.embed, batch)
        future.add_done_callback(_log_failure)
        future.add_done_callback(
            lambda _: loop.is_closed() or loop.call_soon_threadsafe(self._sent))

    def _sent(self) -> None:
        """The worker finished a batch: send what gathered meanwhile, at once."""
        self._busy = False
        if self._pending and self._flush is None:
            self._send()

    async def group(self, groups: dict[str | None, dict[str, str]], min_size: int,
                    language: str) -> th.Grouped:
        """Group cards (id to text) into labelled themes: at most ``MAX_THEMES`` for a step's
        cards (``groups`` keyed None), or ``CHARACTER_THEMES`` for each character's apart."""
        seeds = []
        most = th.MAX_THEMES if list(groups) == [None] else th.CHARACTER_THEMES
        for character, cards in groups.items():
            if not cards:
                continue
            ids = sorted(cards)
            parts = await self._run(worker.group, [cards[i] for i in ids], most, min_size,
                                    language)
            seeds += _seeds(ids, parts, character)
        return th.Grouped(seeds=seeds, model=self.model)

    async def split(self, theme: str, cards: dict[str, str], language: str) -> th.Divided:
        ids = sorted(cards)
        parts = await self._run(worker.split, [cards[i] for i in ids], language)
        return th.Divided(theme=theme, seeds=_seeds(ids, parts))

    async def _run(self, work: object, *args: object) -> list[worker.Part]:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if self._urgent.value == 0:
            self._since.value = time.monotonic()
        self._urgent.value += 1  # before the batch: a background embed in progress hurries too
        try:
            if self._pending:  # ahead of the grouping in the worker's queue, even if one is busy
                batch, self._pending = self._pending, []
                self._pool.submit(worker.embed, batch).add_done_callback(_log_failure)
            future: Future[list[worker.Part]] = self._pool.submit(work, *args)  # type: ignore[arg-type]
            parts = await asyncio.wrap_future(future)
        except Exception as exc:
            log.exception("the themes worker failed")
            raise Refused("themes-unavailable", f"The themes worker failed: {exc}.") from exc
        finally:
            self._urgent.value -= 1
        return parts

    def close(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _seeds(ids: list[str], parts: list[worker.Part],
           character: str | None = None) -> list[th.Seed]:
    return [th.Seed(label=label[: th.LABEL_LENGTH], cards=[ids[i] for i in members],
                    character=character)
            for label, members in parts]


def _log_failure(future: Future[int]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("the themes worker could not embed answers", exc_info=future.exception())
