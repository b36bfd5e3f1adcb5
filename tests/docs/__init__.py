"""The docs hold: protocol examples decode and recompute from their inputs, and the
prose claims are checked on a real server."""
