"""The transport: uvicorn hands a socket here (every touch of uvicorn's insides is in
``uvicorn_glue``); the WebSocket handshake, frames, flow control, the ``/ws`` endpoint's admission,
rate limits and deadlines. It speaks to the node, never to a backend."""
