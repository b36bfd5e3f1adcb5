"""Backends: where sessions live and how their logs reach every node.

``base`` holds the contract; ``memory`` is the embedded single-process default; ``redis`` shares
sessions between processes and machines. ``open_backend`` picks one from a URL and imports only the
one it needs.
"""

from __future__ import annotations

from attune.backends.base import Backend, CodeTaken, VersionConflict


def open_backend(url: str, retention_s: float) -> Backend:
    scheme = url.partition("://")[0]
    if scheme == "memory":
        from attune.backends.memory import MemoryBackend

        return MemoryBackend(retention_s)
    if scheme in ("redis", "rediss", "valkey"):
        from attune.backends.redis import RedisBackend

        return RedisBackend(url, retention_s)
    raise ValueError(f"unknown backend {url!r}; expected memory:// or redis://HOST:PORT/DB")


__all__ = ["Backend", "CodeTaken", "VersionConflict", "open_backend"]
