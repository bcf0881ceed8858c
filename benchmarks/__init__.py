"""Performance measurements of pulumi-webhooks (not tests): ``python -m benchmarks`` (``make bench``).

Every figure is taken from real processes in one run: the sandbox subprocess (with a per-request latency
injected) and the real dynamic provider host driven through ``tests/engine.py``, a new host process per
command, as the Pulumi CLI runs them. Counts come from the sandbox's request log and counters, memory
from ``/proc``, never from the code under measurement. See ``benchmarks/RESULTS.md`` for a recorded run.
"""
