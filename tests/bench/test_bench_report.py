"""The benchmark's figures, from a recorded run (tests/bench/fixtures/bench_1x5.json, one service
over five years with the monthly close, as ``make bench BENCH_ARGS=--sizes 1x5`` wrote it): the
summary in the results JSON is exactly what ``summarise`` makes of the stages' results, and the
printed table is unchanged (bench_1x5_table.txt). No pipeline runs here.

Adding a figure changes the table: regenerate the expected text with
``print_size(json.load(open(FIXTURES / "bench_1x5.json"))["sizes"][0])`` and read the diff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import GOALS, growth, print_growth, print_size, summarise
from bench.stages import WORKERS, worker_main

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def recorded() -> dict:
    return json.loads((FIXTURES / "bench_1x5.json").read_text())


def test_the_summary_in_the_results_json_is_remade_from_the_stages(recorded: dict) -> None:
    (size,) = recorded["sizes"]
    assert summarise(size) == size["summary"]
    assert set(recorded) >= {"benchmark", "at", "machine", "config", "goals", "sizes", "growth", "total_s"}
    assert recorded["goals"] == GOALS


def test_the_printed_table_is_unchanged(recorded: dict, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # the machine line names the CPUs it ran on
    print_size(recorded["sizes"][0])
    printed = capsys.readouterr().out
    assert printed == (FIXTURES / "bench_1x5_table.txt").read_text()
    assert "monthly close (39,493 rows landed)" in printed and "missed" in printed


def test_one_size_gives_no_growth_line(recorded: dict, capsys) -> None:
    assert growth(recorded["sizes"]) == {}
    print_growth({})
    assert capsys.readouterr().out == ""


def test_a_failing_stage_reports_its_error_instead_of_dying(tmp_path: Path) -> None:
    assert set(WORKERS) == {"simulate", "pipeline", "scan", "baseline", "pages", "close_land", "dq"}
    result = tmp_path / "result.json"
    # close_land with nothing held for the close: the worker raises, worker_main writes why.
    status = worker_main("close_land", json.dumps({"data_dir": str(tmp_path), "new_as_of": "2026-08-01"}), str(result))
    written = json.loads(result.read_text())
    assert status == 1
    assert written["error"].startswith("RuntimeError: nothing held for the close under ")
    assert "Traceback" in written["traceback"] and written["rusage"]["cpu_s"] >= 0


def test_the_worker_entry_point_is_still_bench_run(tmp_path: Path) -> None:
    """The parent starts each stage as ``python -m bench.run _worker ...``: that entry must reach
    the stage workers (here one that fails at once, so no pipeline runs)."""
    result = tmp_path / "result.json"
    spec = json.dumps({"data_dir": str(tmp_path), "new_as_of": "2026-08-01"})
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "_worker", "close_land", spec, str(result)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "nothing held for the close" in json.loads(result.read_text())["error"]
