"""Suite definitions as data: raw-table suites per landed batch and mart suites before publishing."""

from expectations.suites.base import SEVERITIES, Check, Severity, Suite, load_frame, read_chunks, read_header
from expectations.suites.marts import mart_suites
from expectations.suites.raw import contract_for, current_batches, raw_suites, raw_tables

__all__ = [
    "SEVERITIES",
    "Check",
    "Severity",
    "Suite",
    "contract_for",
    "current_batches",
    "load_frame",
    "mart_suites",
    "raw_suites",
    "raw_tables",
    "read_chunks",
    "read_header",
]
