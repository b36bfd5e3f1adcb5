"""Session behaviour over a real server and real sockets (attune.node, attune.app),
once per backend."""
