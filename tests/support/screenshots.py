"""Regenerate the committed screenshots, docs/screenshots/: ``python -m tests.support.screenshots``.

Runs the browser suite (marker ``browser``) with ``ATTUNE_SCREENSHOTS`` naming a fresh folder,
which also fixes the server's random draws per test (tests/support/fixed.py: join codes, QR
codes, groups and characters are the same on every run); the session data is the tests' own
fixed files, animations are off and the caret hidden. Then every PNG already in docs/screenshots/
is replaced by the new shot it is a copy of: the one of the same name, or by the naming the
committed copies were given (``source`` below: ``facilitator-NAME`` is the suite's ``NAME``,
``groups-VIEW-phone`` its ``groups/VIEW``, ``fit-en-choice-collecting-SIZE`` its
``fit-en-4-choice-SIZE``). Shots the suite makes that are not committed are listed, not added
(``--add NAME...`` adds them under their own names), and committed ones it no longer makes are
listed too. Extra arguments go to pytest, e.g. ``-k fit`` to retake a few.

Not fixed: the wall clock (times and dates a view shows) and anything that depends on the order
in which concurrent clients happen to join.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.paths import ROOT

COMMITTED = ROOT / "docs" / "screenshots"
RENAMED = {
    "groups-console-fr-desktop.png": "groups/console-round-fr.png",
    "groups-console-zh-desktop.png": "groups/console-round-zh.png",
    "groups-join-card-en-phone.png": "groups/join-group-en.png",
    "groups-join-card-zh-phone.png": "groups/join-group-zh.png",
}
"""Committed copies whose names follow no rule."""


def source(name: str, made: set[str]) -> str | None:
    """The shot the suite takes that the committed file ``name`` is a copy of."""
    candidates = [name, RENAMED.get(name, "")]
    if name.startswith("facilitator-"):
        candidates.append(name.removeprefix("facilitator-"))
    if name.startswith("groups-"):
        view = name.removeprefix("groups-").removesuffix(".png")
        candidates.append(f"groups/{view.removesuffix('-phone').removesuffix('-desktop')}.png")
    if name.startswith("fit-"):
        language, rest = name[4:6], name[7:].replace("choice-collecting", "choice")
        candidates += sorted(fnmatch.filter(made, f"fit-{language}-[0-9]-{rest}"))
    return next((found for found in candidates if found in made), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--add", nargs="*", default=[], metavar="NAME",
                        help="also commit these new shots (file names as listed)")
    args, pytest_args = parser.parse_known_args(argv)
    shots = Path(tempfile.mkdtemp(prefix="attune-committed-shots-"))
    env = {**os.environ, "ATTUNE_SCREENSHOTS": str(shots)}
    command = [sys.executable, "-m", "pytest", "-m", "browser", "-q", "-p", "no:cacheprovider",
               "-n", "0", *pytest_args]
    result = subprocess.run(command, cwd=ROOT, env=env)
    if result.returncode != 0:
        print(f"the browser suite failed: nothing copied (the shots are in {shots})")
        return result.returncode
    made = {path.relative_to(shots).as_posix(): path for path in shots.rglob("*.png")}
    committed = {path.relative_to(COMMITTED).as_posix() for path in COMMITTED.rglob("*.png")}
    copies = {name: source(name, set(made)) for name in committed}
    copies.update({name: name for name in args.add})
    changed = copied = 0
    for name, found in sorted(copies.items()):
        if found is None:
            continue
        target = COMMITTED / name
        before = target.read_bytes() if target.exists() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made[found], target)
        copied += 1
        changed += before != target.read_bytes()
    print(f"{changed} of {copied} committed shots changed")
    stale = sorted(name for name, found in copies.items() if found is None)
    if stale and not pytest_args:
        print("committed but no longer taken (delete them or retake them):", *stale, sep="\n  ")
    new = sorted(made.keys() - set(copies.values()))
    if new:
        print(f"taken but not committed ({len(new)}; --add NAME to commit one): in {shots}")
    else:
        shutil.rmtree(shots)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
