"""The web UI in real headless Chromium (marker browser): flows, fit at projector
and phone sizes, the facilitator's tools."""
