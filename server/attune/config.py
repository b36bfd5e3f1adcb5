"""Server settings: each one a command-line option with an ``ATTUNE_*`` environment variable."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

BUILTIN_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
WEB_ROOT = Path(__file__).resolve().parents[2] / "web"


class Settings(msgspec.Struct, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    backend: str = "memory://"
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


ENVIRONMENT: dict[str, str] = {
    "host": "ATTUNE_HOST",
    "port": "ATTUNE_PORT",
    "backend": "ATTUNE_BACKEND",
    "scenarios": "ATTUNE_SCENARIOS",
    "allowed_origins": "ATTUNE_ALLOWED_ORIGINS",
    "min_responses": "ATTUNE_MIN_RESPONSES",
    "admin_key": "ATTUNE_ADMIN_KEY",
    "library_write": "ATTUNE_LIBRARY_WRITE",
    "resume_window_s": "ATTUNE_RESUME_WINDOW",
    "retention_s": "ATTUNE_RETENTION",
    "workers": "ATTUNE_WORKERS",
    "lexicon": "ATTUNE_LEXICON",
    "help_text": "ATTUNE_HELP_TEXT",
    "themes": "ATTUNE_THEMES",
}
