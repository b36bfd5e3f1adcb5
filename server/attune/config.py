"""Server settings: each one a command-line option with an ``ATTUNE_*`` environment variable.

The web UI and the built-in scenarios are package data of ``attune`` (``attune/web`` and
``attune/scenarios``, links to the repository's ``web/`` and ``scenarios/`` in a checkout), found
with ``importlib.resources`` wherever the package is installed.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Literal

import msgspec
import platformdirs

from attune.backends.base import INACTIVE_S


def packaged(name: str) -> Path:
    """A folder shipped inside the ``attune`` package (it may be missing from a broken
    install: ``missing`` says so before the server starts)."""
    return Path(str(resources.files("attune").joinpath(name)))


BUILTIN_SCENARIOS = packaged("scenarios")
WEB_ROOT = packaged("web")


def default_data() -> Path:
    """``ATTUNE_DATA`` when set, else the per-user data folder (``~/.local/share/attune`` on
    Linux, ``~/Library/Application Support/attune`` on macOS)."""
    named = os.environ.get("ATTUNE_DATA")
    return Path(named) if named else platformdirs.user_data_path("attune", appauthor=False)


class Settings(msgspec.Struct, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    backend: str = "sqlite://"
    """``sqlite://`` keeps sessions in a file under ``data``; see ``attune.backends``."""
    data: Path = msgspec.field(default_factory=default_data)
    """The data folder: the SQLite file of the default backend lives here."""
    scenarios: Path = BUILTIN_SCENARIOS
    allowed_origins: list[str] = []
    """Browser origins allowed to open ``/ws`` besides the server's own (same host and port)."""
    min_responses: int = 3
    """Answers a step needs before any aggregate or free-text card is shown."""
    admin_key: str | None = None
    """When set, creating a session requires it (``Authorization: Bearer KEY``)."""
    library_write: Literal["auto", "anyone", "off"] = "auto"
    """Who may save, change and delete scenarios in the library: ``auto`` admin-key holders
    when ``admin_key`` is set and anyone who reaches the console otherwise; ``anyone`` never
    asks for the key; ``off`` keeps the library read-only (built-ins only)."""
    resume_window_s: float = 120.0
    """How long a dropped client can come back and be sent just the events it missed."""
    retention_s: float = 24 * 3600.0
    """How long an ended session's answers are kept before they expire."""
    inactive_s: float = INACTIVE_S
    """How long a session that was never ended is kept after its last activity."""
    workers: int = 1
    themes: bool = True
    """Group free-text answers into themes where the ``themes`` extra is installed."""
    hello_timeout_s: float = 10.0
    lexicon: Path | None = None
    """An operator's word list added to the built-in ones (``attune.core.moderation``)."""
    help_text: str | None = None
    """Where help is, for a participant whose card reads like distress, when the scenario
    does not say."""
    web_root: Path = WEB_ROOT


def missing(settings: Settings) -> list[str]:
    """What the server cannot run without, each named with where it was looked for."""
    problems = []
    if not (settings.web_root / "console" / "index.html").is_file():
        problems.append(f"the web UI (no console/index.html in {settings.web_root})")
    if not settings.scenarios.is_dir():
        problems.append(f"the scenarios folder {settings.scenarios}")
    elif settings.scenarios == BUILTIN_SCENARIOS and not any(settings.scenarios.glob("*.yaml")):
        problems.append(f"the built-in scenarios (no *.yaml in {settings.scenarios})")
    return problems


ENVIRONMENT: dict[str, str] = {
    "host": "ATTUNE_HOST",
    "port": "ATTUNE_PORT",
    "backend": "ATTUNE_BACKEND",
    "data": "ATTUNE_DATA",
    "scenarios": "ATTUNE_SCENARIOS",
    "allowed_origins": "ATTUNE_ALLOWED_ORIGINS",
    "min_responses": "ATTUNE_MIN_RESPONSES",
    "admin_key": "ATTUNE_ADMIN_KEY",
    "library_write": "ATTUNE_LIBRARY_WRITE",
    "resume_window_s": "ATTUNE_RESUME_WINDOW",
    "retention_s": "ATTUNE_RETENTION",
    "inactive_s": "ATTUNE_INACTIVITY",
    "workers": "ATTUNE_WORKERS",
    "lexicon": "ATTUNE_LEXICON",
    "help_text": "ATTUNE_HELP_TEXT",
    "themes": "ATTUNE_THEMES",
}
