"""The dbt project's unit tests (KPI logic: financial quarters, RAG bands, roll-ups, YTD) on a warehouse
that holds no data: the sources made by the ingestion engine's own DDL, the unit-tested models and their
ancestors built empty (``--empty``, so their columns exist for the fixtures' types) and every unit test
run. No pipeline: this is the dbt half of ``make test-fast``."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner

from expectations.store import ensure_dq_schema
from orchestration.ingestion.engine import ensure_all_raw_tables
from orchestration.settings import REPO_ROOT
from orchestration.warehouse import connect

DBT_PROJECT = REPO_ROOT / "dbt_project"

# One folder kept between sessions, so dbt's partial parse is reused (a fresh target path, or a
# different warehouse path in the profile, means a full parse: about 9 s of CPU). Under
# .pytest_cache, never the project's own target/ (Dagster's manifest). The warehouse in it is
# made anew every session; only target/partial_parse.msgpack carries over.
WORK_DIR = REPO_ROOT / ".pytest_cache" / "dbt_unit_tests"

# Every unit test, the model it tests and that model's ancestors (a unit test needs its model's
# parents to exist); nothing downstream, and no data tests.
BUILD = ["build", "--empty", "--select", "+test_type:unit", "--exclude", "test_type:data"]


def unit_tests_defined(manifest: Path) -> set[str]:
    """The unit tests dbt parsed from the project (by name)."""
    return {node["name"] for node in json.loads(manifest.read_text())["unit_tests"].values()}


def build_empty(data_dir: Path):
    """A warehouse of empty sources in ``data_dir``, then ``BUILD`` on it: dbt's result."""
    for stale in (data_dir / "warehouse.duckdb", data_dir / "warehouse.duckdb.wal"):
        stale.unlink(missing_ok=True)
    with connect(data_dir / "warehouse.duckdb") as con:
        ensure_all_raw_tables(con)
        ensure_dq_schema(con)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GT_DATA_DIR", str(data_dir))
        mp.setenv("DO_NOT_TRACK", "1")
        mp.delenv("GT_DBT_TARGET", raising=False)
        return dbtRunner().invoke([
            *BUILD, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
            "--target-path", str(data_dir / "target"), "--log-path", str(data_dir / "logs"),
        ])  # fmt: skip


@pytest.fixture(scope="module")
def built_empty():
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    # Two sessions at once in one checkout (make test beside make test-fast) take turns.
    with (WORK_DIR / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = build_empty(WORK_DIR)
        defined = unit_tests_defined(WORK_DIR / "target" / "manifest.json")
    return result, defined


def test_every_dbt_unit_test_passes_on_an_empty_warehouse(built_empty):
    result, defined = built_empty
    assert result.exception is None, result.exception
    # Exposures are no-ops in a build; every model, seed and unit test must succeed.
    outcomes = {r.node.name: str(r.status) for r in result.result.results if r.node.resource_type != "exposure"}
    failed = {name: status for name, status in outcomes.items() if status not in ("pass", "success")}
    assert failed == {}, failed
    assert result.success
    ran = {r.node.name for r in result.result.results if r.node.resource_type == "unit_test"}
    # Every unit test the project defines ran (none lost to the selector), and there are some.
    assert ran == defined
    assert len(ran) >= 20
    # No data tests: they need data.
    assert "test" not in {str(r.node.resource_type) for r in result.result.results}


def test_the_next_session_can_reuse_this_parse(built_empty):
    # dbt writes its parse beside the manifest in the kept folder; the next session starts from it.
    assert (WORK_DIR / "target" / "partial_parse.msgpack").stat().st_size > 0
    assert (WORK_DIR / "target" / "manifest.json").is_file()
