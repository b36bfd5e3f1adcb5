"""Pure sessions to fold entries into (no socket, no loop), and the steps the groups tests repeat
on ``tests/data/triads.yaml``."""

from __future__ import annotations

from pathlib import Path

from attune.core import protocol as p
from attune.core import scenario as sc
from attune.core.session import Commanded, Joined, Reply, Session, SessionInfo, digest
from tests.support.paths import DATA

TRIADS = DATA / "triads.yaml"
GROUPS = 1
"""The groups step of tests/data/triads.yaml."""


def make(min_responses: int = 3, scenario: Path = DATA / "every-kind.yaml",
         language: str = "en", secret: str = "x" * 32) -> Session:
    """A session of ``scenario`` (``tests/data/every-kind.yaml`` unless named), nobody in it."""
    return Session(SessionInfo(
        id="s1", code="ABCDEF", epoch="e1", secret=secret, token_hash=digest("t"),
        language=language, min_responses=min_responses, created_at=0,
        scenario=sc.load(scenario),
    ))


def command(session: Session, cmd: p.FacilitatorCommand, at: float = 10) -> list[object]:
    """What the facilitator's ``cmd`` gives when folded into ``session``."""
    return list(session.apply(Commanded(at=at, origin="n/f", command=cmd)))


def errors(outcomes: list[object]) -> list[str]:
    """The codes of the typed errors among ``outcomes``."""
    return [o.message.code for o in outcomes if isinstance(o, Reply)
            and isinstance(o.message, p.Error)]


def on_groups_step(people: int) -> Session:
    """A triads session at its groups step, with ``people`` joined (p0, p1, ...), none ready."""
    session = make(scenario=TRIADS, secret="s" * 32)
    for i in range(people):
        session.apply(Joined(at=1, participant=f"p{i}", token_hash=""))
    command(session, p.Start())
    command(session, p.Next())
    return session
