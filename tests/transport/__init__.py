"""attune.transport: the handshake, the uvicorn seam, bad input, hostile clients
and the fuzzed edge."""
