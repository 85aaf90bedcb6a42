"""The ingest-only benchmark runs on a small landing area, so it cannot rot (figures not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.ingest import main
from tests.conftest import simulate

# A year simulated and ingested: make test runs it, make test-fast does not.
pytestmark = [pytest.mark.slow]


def test_the_ingest_benchmark_reports_throughput_and_the_bare_read(tmp_path: Path, capsys) -> None:
    landing = tmp_path / "landing"
    simulate(landing, years=1)
    assert main(["--landing", str(landing), "--work-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "rows/s" in printed and "ingest / bare read" in printed
    written = Path(printed.strip().splitlines()[-1].removeprefix("written "))
    result = json.loads(written.read_text())
    written.unlink()
    assert result["ingest"]["rows"] > 10_000 and result["ingest"]["rows_per_s"] > 0
    assert 0.8 * result["ingest"]["rows"] < result["bare_duckdb_read"]["rows"] <= result["ingest"]["rows"]
    assert result["ratio_to_bare_duckdb"] > 0
