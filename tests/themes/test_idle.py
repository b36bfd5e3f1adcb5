"""The worker's idle helper, through the real ``Grouper``: background embedding runs in a
``SCHED_IDLE`` child while the worker keeps ordinary priority, and a grouping someone awaits
finishes even while every core is busy with ordinary work (a ``SCHED_IDLE`` process there gets
almost no CPU, and the worker could not raise itself back without ``CAP_SYS_NICE``). And the
worker's side of the socket: a chunk counts only once all of it has arrived."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest_asyncio
import yaml

from attune.themes import idle
from attune.themes.runner import Grouper
from tests.support.paths import DATA
from tests.support.waiting import until

ANSWERS = yaml.safe_load((DATA / "themes" / "noor.yaml").read_text(encoding="utf-8"))["answers"]
SPIN = "import sys\nsys.stdout.write('ready\\n'); sys.stdout.flush()\nwhile True: pass\n"
ANSWERED = 1500
"""Answers in the awaited grouping: about 2.5 s of one core to embed and group (on this 2-core
machine, quiet), which a ``SCHED_IDLE`` process next to busy cores, given about 2% of one,
would take minutes over."""
BOUND = 60.0
"""Seconds the grouping may take while every core is busy: generous (with the worker at
ordinary priority it takes a few seconds)."""


@contextmanager
def every_core_busy() -> Iterator[None]:
    """One process per core spinning at ordinary priority, as the suite's other runs or a busy
    production box would."""
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE,
                                 text=True) for _ in range(os.cpu_count() or 1)]
    try:
        for spinner in spinners:
            assert spinner.stdout is not None and spinner.stdout.readline() == "ready\n"
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
            assert spinner.stdout is not None
            spinner.stdout.close()


@pytest_asyncio.fixture
async def grouper() -> AsyncIterator[Grouper]:
    """A grouper whose worker is up with its model loaded (a split of one answer waits for it),
    before any core is made busy: what is measured is the grouping, not the start."""
    grouper = Grouper()
    try:
        await grouper.split("t0", {"c0": "warm up"}, "en")
        yield grouper
    finally:
        grouper.close()


def written(per_language: int | None = None) -> list[str]:
    """The labelled answers (``per_language`` of each theme in each language, or all 162)."""
    return [text for theme in ANSWERS.values() for language in ("en", "fr", "zh")
            for text in theme[language][:per_language]]


def cards(texts: list[str]) -> dict[str, str]:
    return {f"c{i}": text for i, text in enumerate(texts)}


def many(count: int) -> list[str]:
    """``count`` answers never seen before: the labelled ones, each numbered once per repeat."""
    texts = written()
    return [f"{texts[i % len(texts)]} ({i // len(texts) + 1})" for i in range(count)]


async def test_an_awaited_grouping_finishes_while_every_core_is_busy(grouper: Grouper) -> None:
    """The answers arrive (their embedding goes to the idle helper, which the spinners starve),
    then the facilitator awaits a grouping: the worker takes the embedding back and finishes."""
    answered = cards(many(ANSWERED))
    with every_core_busy():
        for text in answered.values():
            grouper.note(text)
        started = time.monotonic()
        grouped = await asyncio.wait_for(grouper.group({None: answered}, 3, "en"), BOUND)
        took = time.monotonic() - started
    placed = [card for seed in grouped.seeds for card in seed.cards]
    assert sorted(placed) == sorted(answered), "every answer in exactly one theme"
    assert len(grouped.seeds) >= 2 and all(seed.label for seed in grouped.seeds)
    assert took < BOUND


def children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            found += [int(child) for child in f.read().split()]
    return found


def pool_worker() -> int:
    """This process's themes worker: its child started by multiprocessing's spawn (not the
    resource tracker multiprocessing may also start)."""
    [worker] = [child for child in children(os.getpid())
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]
    return worker


async def test_background_embedding_runs_at_sched_idle_and_the_worker_does_not(
        grouper: Grouper) -> None:
    """Answers nobody awaits yet are embedded by a child of the worker under ``SCHED_IDLE``
    (preempted by any ordinary process, the server first); the worker itself stays ordinary, so
    it can still do an awaited grouping's work on a busy machine."""
    worker = pool_worker()
    for text in written(per_language=1):
        grouper.note(text)

    def helped() -> bool:
        return any(os.sched_getscheduler(child) == os.SCHED_IDLE for child in children(worker))

    await until(helped, "the worker has a SCHED_IDLE helper", timeout=30)
    assert os.sched_getscheduler(worker) == os.SCHED_OTHER
    assert os.getpriority(os.PRIO_PROCESS, worker) == os.getpriority(os.PRIO_PROCESS, 0)


def test_a_chunk_is_taken_only_once_it_has_all_arrived() -> None:
    """The worker parses chunks out of whatever bytes have arrived, so that it never blocks
    reading from a helper starved halfway through writing one."""
    first = np.arange(6, dtype=np.float32).reshape(2, 3)
    second = np.ones((1, 3), dtype=np.float32)
    sent = idle._framed(first) + idle._framed(second)
    got = bytearray()
    for cut in range(len(idle._framed(first))):
        got[:] = sent[:cut]
        assert idle._frame(got) is None
    got[:] = sent
    frame = idle._frame(got)
    assert frame is not None
    vectors, used = frame
    assert used == len(idle._framed(first)) and np.array_equal(vectors, first)
    del got[:used]
    frame = idle._frame(got)
    assert frame is not None and np.array_equal(frame[0], second) and frame[1] == len(got)
