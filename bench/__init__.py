"""Benchmarks: run with ``make bench``; they print their figures and write JSON under bench/results/."""
