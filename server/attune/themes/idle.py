"""The worker's idle helper: a child process under ``SCHED_IDLE`` that embeds answers in the
background, and that the worker stops waiting for when a grouping has been awaited too long.

Why a second process. Background embedding must run only on CPU time the server leaves: under
``SCHED_IDLE`` any ordinary process that wakes (the server, when a message arrives) preempts it
at once. But when every core is busy with ordinary work (a busy host, the test suite on two
cores), a ``SCHED_IDLE`` process gets almost nothing (about 2% of a core on our 2-core machine),
and a grouping the facilitator awaits behind it takes minutes. A process cannot leave
``SCHED_IDLE``, nor lower its niceness again, without ``CAP_SYS_NICE`` or an ``RLIMIT_NICE``,
which the shipped systemd unit and Docker image do not grant (EPERM as user nobody). So the
worker keeps ordinary priority, only this child takes ``SCHED_IDLE``, and what the child has not
finished when a grouping has waited long enough, the worker does itself.

Why fork. The child shares the loaded model with the worker, copy-on-write: no second 200 MB,
no second start. The worker forks it from its main thread. Its other threads are OpenBLAS's
(OpenBLAS's fork handler stops them before the fork) and ``worker._orphaned`` (asleep, holding
no lock); the child runs only numpy and the pure-Python tokenizer. It lives on between jobs: a
fresh child's first forward pass costs about 35 ms more (page faults), and each fork 3 to 5 ms
of the worker's ordinary-priority time.

A starved child never blocks the worker. The worker's end of the socket is non-blocking and it
parses whole frames out of what has arrived: a blocking read of a message could wait on a child
that was preempted halfway through writing one. The child dies with the worker
(``PR_SET_PDEATHSIG``), so it never holds the pool's pipes open after it.

Linux only (``available``): elsewhere the worker embeds itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import select
import signal
import socket
import struct
import traceback
from collections.abc import Callable, Iterator
from typing import NoReturn

import msgspec
import numpy as np
from numpy.typing import NDArray

Work = Callable[[list[str]], Iterator[NDArray[np.float32]]]
"""What the child runs on a job's texts: their vectors, chunk by chunk, in order."""

LOOK = 0.05
"""Seconds at most between the worker's looks at whether to stop waiting."""
READ = 1 << 20

_JOB = struct.Struct("=Q")
"""A job, worker to child: the length of the msgpack list of texts that follows."""
_CHUNK = struct.Struct("=II")
"""A chunk, child to worker: rows and columns of the float32 vectors that follow."""
_texts = msgspec.msgpack.Decoder(list[str])
PR_SET_PDEATHSIG = 1
"""From ``<linux/prctl.h>``: the signal the kernel sends a process when its parent exits."""

_stopped: list[int] = []
"""Children killed and not reaped yet: a killed child may be starved of the CPU its exit
needs, so the worker never waits for one."""


def available() -> bool:
    return hasattr(os, "SCHED_IDLE") and hasattr(os, "fork")


class Helper:
    """One forked child under ``SCHED_IDLE`` that runs ``work`` on each job it is given."""

    def __init__(self, work: Work) -> None:
        _reap()
        ours, theirs = socket.socketpair()
        worker = os.getpid()
        pid = os.fork()
        if pid == 0:
            ours.close()
            _serve(theirs, work, worker)
        theirs.close()
        ours.setblocking(False)
        self.pid = pid
        self.alive = True
        """False once the child is stopped or gone: make a new one for the next job."""
        self._socket = ours

    def run(self, texts: list[str], late: Callable[[], bool]) -> Iterator[NDArray[np.float32]]:
        """The vectors of ``texts``, chunk by chunk in order as the child makes them. Stops
        early, as soon as ``late()`` says the worker should do the rest itself, or when the
        child is gone; a child left with part of a job is stopped (its next chunks would be
        taken for the next job's)."""
        job = msgspec.msgpack.encode(texts)
        out = memoryview(_JOB.pack(len(job)) + job)
        got = bytearray()
        rows = 0
        try:
            while rows < len(texts) and not late():
                readable, writable, _ = select.select(
                    [self._socket], [self._socket] if out else [], [], LOOK)
                try:
                    if writable:
                        out = out[self._socket.send(out):]
                    if readable:
                        data = self._socket.recv(READ)
                        if not data:
                            return  # the child is gone
                        got += data
                except BlockingIOError:
                    continue
                except OSError:
                    return  # the child is gone
                while (frame := _frame(got)) is not None:
                    vectors, used = frame
                    del got[:used]
                    rows += len(vectors)
                    yield vectors
        finally:
            if rows < len(texts):
                self.stop()

    def stop(self) -> None:
        """Kill the child (it may be starved halfway through a chunk: only SIGKILL is sure)."""
        if not self.alive:
            return
        self.alive = False
        self._socket.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        _stopped.append(self.pid)


def _framed(vectors: NDArray[np.float32]) -> bytes:
    """A chunk of vectors as the child sends it."""
    rows, columns = vectors.shape
    return _CHUNK.pack(rows, columns) + np.ascontiguousarray(vectors, dtype=np.float32).tobytes()


def _frame(got: bytearray) -> tuple[NDArray[np.float32], int] | None:
    """The first whole chunk in ``got`` and its length in bytes, or None if none has arrived."""
    if len(got) < _CHUNK.size:
        return None
    rows, columns = _CHUNK.unpack_from(got)
    end = _CHUNK.size + rows * columns * 4
    if len(got) < end:
        return None
    vectors = np.frombuffer(got, dtype=np.float32, count=rows * columns, offset=_CHUNK.size)
    return vectors.reshape(rows, columns).copy(), end


def _reap() -> None:
    for pid in list(_stopped):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _stopped.remove(pid)


def _serve(channel: socket.socket, work: Work, worker: int) -> NoReturn:
    """The child: under ``SCHED_IDLE``, run ``work`` on each job and send each chunk back, until
    the worker is gone. It never returns into the worker's code (the pool's loop)."""
    code = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == worker:  # else the worker died before the line above
            # Objects already made are the worker's: the collector would touch, and so copy,
            # the pages of every one of them (the tokenizer's 128,000 pieces).
            gc.freeze()
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            jobs = channel.makefile("rb")
            while len(head := jobs.read(_JOB.size)) == _JOB.size:
                for vectors in work(_texts.decode(jobs.read(_JOB.unpack(head)[0]))):
                    channel.sendall(_framed(vectors))
        code = 0  # the worker closed its end, or is gone
    except (BrokenPipeError, ConnectionResetError):
        code = 0  # the worker stopped us or exited while a chunk was on its way
    except Exception:
        traceback.print_exc()
    finally:
        os._exit(code)
