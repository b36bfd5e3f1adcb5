"""Where things are: the checkout's root and the tests' own data folder."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The checkout: ``scenarios/``, ``web/``, ``docs/`` and ``deploy/`` are read from here."""

DATA = ROOT / "tests" / "data"
"""Scenarios and labelled sets written for the tests (``every-kind.yaml`` and friends)."""

BUILTIN = ROOT / "scenarios"
"""The built-in scenarios, as shipped."""
