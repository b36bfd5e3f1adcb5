"""attune.core as pure code: plain functions of a session log,
no socket, no event loop, no backend."""
