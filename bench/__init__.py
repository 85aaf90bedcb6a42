"""Benchmarks: run with ``make bench``; they print their figures and write JSON under bench/results/."""

import time

# A stage's process start, before any heavy import: the stage workers time start-up from here
# (``python -m bench.run _worker ...`` imports this package first).
PROCESS_START = time.perf_counter()
