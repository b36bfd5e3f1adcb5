"""Attune's benchmark harness: ``python -m bench`` (see ``docs/benchmarks.md``).

Servers run in their own processes pinned to one CPU; lean load clients (``wsclient``) run in
worker processes (``loadgen``) pinned to the others; ``run`` drives the scenarios and ``report``
writes the tables, the target checks and the plots.
"""
