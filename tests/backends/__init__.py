"""attune.backends: the one contract suite over every backend, Redis faults,
nodes sharing one Redis, kill -9."""
