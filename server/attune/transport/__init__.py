"""The transport: uvicorn hands a socket here; the WebSocket handshake, frames, flow control, the
``/ws`` endpoint's admission, rate limits and deadlines. It speaks to the node, never to a backend.
"""
