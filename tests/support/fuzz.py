"""Coverage-guided fuzzing of the edge: bytes in, only typed errors out (run by test_fuzz.py).

Each input is split into frames; each frame is decoded exactly as ``/ws`` decodes it and, when it
decodes, carried into a live session the way the node would. Anything but ``DecodeError`` or a
``Refused`` crashes the fuzzer, which then exits non-zero with the input that did it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import msgspec

    from attune.core import protocol as p
    from attune.core import scenario as sc
    from attune.core.errors import Refused
    from attune.core.session import (
        Commanded,
        Joined,
        Readied,
        Session,
        SessionInfo,
        Submitted,
        Ticked,
        digest,
    )

SCENARIO = sc.load(Path(__file__).resolve().parents[1] / "data" / "every-kind.yaml")
INFO = SessionInfo(id="s", code="ABCDEF", epoch="e", secret="x" * 32, token_hash=digest("t"),
                   language="en", min_responses=1, created_at=0, scenario=SCENARIO)


def one(data: bytes) -> None:
    session = Session(INFO)
    session.apply(Joined(at=0, participant="p", token_hash="h"))
    session.apply(Commanded(at=0, command=p.Start()))
    for frame in data.split(b"\n")[:8]:
        try:
            message = p.decode_client(frame)
        except msgspec.DecodeError:
            continue
        match message:
            case p.Answer() | p.Pass():
                try:
                    session.check_answer(message)
                except Refused:
                    continue
                session.apply(Submitted(at=1, participant="p", message=message))
            case p.Ready():
                try:
                    session.check_ready(message)
                except Refused:
                    continue
                session.apply(Readied(at=1, participant="p", step=message.step,
                                      ready=message.ready))
            case p.Tick():
                try:
                    session.check_tick("p", message)
                except Refused:
                    continue
                session.apply(Ticked(at=1, participant="p", step=message.step, item=message.item,
                                     ticked=message.ticked))
            case p.Hello() | p.Ping() | p.Leave():
                pass
            case _:
                session.apply(Commanded(at=1, command=message))


if __name__ == "__main__":
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()
