"""Backends: where sessions live and how their logs reach every node.

``base`` holds the contract. ``sqlite`` is the default: durable, embedded, for one process.
``redis`` shares sessions between processes and machines. ``memory`` keeps nothing after the
process stops, for tests and throwaway runs. ``open_backend`` picks one from a URL and imports
only the one it needs.
"""

from __future__ import annotations

from pathlib import Path

from attune.backends.base import INACTIVE_S, Backend, CodeTaken, VersionConflict
from attune.core.errors import SessionGone

SCHEMES = {
    "sqlite": "sqlite:// (a file in the data folder, the default) or sqlite:///PATH",
    "memory": "memory:// (nothing kept after the process stops)",
    "redis": "redis://HOST:PORT/DB (several processes or machines)",
}
"""Each kind of backend URL, as ``attune serve --help`` and error messages describe it."""
SHARED = ("redis", "rediss", "valkey", "valkeys")
"""Schemes whose backend several processes can share (``--workers`` above 1 needs one)."""


def open_backend(url: str, retention_s: float, inactive_s: float = INACTIVE_S, *,
                 data: Path | None = None) -> Backend:
    """The backend a URL names. ``data`` is the data folder ``sqlite://`` keeps its file in."""
    scheme = url.partition("://")[0]
    if scheme == "sqlite":
        from attune.backends.sqlite import SQLiteBackend, path_from_url

        if data is None:
            from attune.config import default_data

            data = default_data()
        path, synchronous = path_from_url(url, data)
        return SQLiteBackend(path, retention_s, inactive_s, synchronous=synchronous)
    if scheme == "memory":
        from attune.backends.memory import MemoryBackend

        return MemoryBackend(retention_s, inactive_s)
    if scheme in SHARED:
        from attune.backends.redis import RedisBackend

        return RedisBackend(url, retention_s, inactive_s)
    raise ValueError(f"unknown backend {url!r}; expected {', '.join(SCHEMES.values())}")


__all__ = ["Backend", "CodeTaken", "SessionGone", "VersionConflict", "open_backend"]
