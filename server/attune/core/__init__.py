"""The pure core: the wire protocol, the session rules folded over a log, aggregates, word tokens,
views, the scenario format and the emotion vocabulary. Nothing here does I/O, imports asyncio, a
backend or the transport, so every node derives the same state from the same log."""
