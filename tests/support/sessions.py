"""A pure session to fold entries into (no socket, no loop): ``tests/data/every-kind.yaml``."""

from __future__ import annotations

from attune.core import scenario as sc
from attune.core.session import Session, SessionInfo, digest
from tests.support.paths import DATA


def make(min_responses: int = 3) -> Session:
    scenario = sc.load(DATA / "every-kind.yaml")
    return Session(SessionInfo(
        id="s1", code="ABCDEF", epoch="e1", secret="x" * 32, token_hash=digest("t"),
        language="en", min_responses=min_responses, created_at=0, scenario=scenario,
    ))


