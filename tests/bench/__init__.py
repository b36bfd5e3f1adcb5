"""The benchmark harness runs end to end on tiny sizes (no timing asserted)."""
