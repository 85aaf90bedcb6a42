"""The dbt project's unit tests (KPI logic: financial quarters, RAG bands, roll-ups, YTD) on a warehouse
that holds no data: the sources made by the ingestion engine's own DDL, every model built empty
(``--empty``, so its columns exist for the fixtures' types) and every unit test run. No pipeline:
this is the dbt half of ``make test-fast``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner

from expectations.store import ensure_dq_schema
from orchestration.ingestion.engine import ensure_all_raw_tables
from orchestration.settings import REPO_ROOT
from orchestration.warehouse import connect

DBT_PROJECT = REPO_ROOT / "dbt_project"


def unit_tests_defined(manifest: Path) -> set[str]:
    """The unit tests dbt parsed from the project (by name)."""
    return {node["name"] for node in json.loads(manifest.read_text())["unit_tests"].values()}


@pytest.fixture(scope="module")
def built_empty(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("dbt_unit")
    with connect(data_dir / "warehouse.duckdb") as con:
        ensure_all_raw_tables(con)
        ensure_dq_schema(con)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GT_DATA_DIR", str(data_dir))
        mp.setenv("DO_NOT_TRACK", "1")
        mp.delenv("GT_DBT_TARGET", raising=False)
        result = dbtRunner().invoke([
            "build", "--empty", "--exclude", "test_type:data",
            "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
            # Keep the project's own target/ (Dagster's manifest) untouched.
            "--target-path", str(data_dir / "target"), "--log-path", str(data_dir / "logs"),
        ])  # fmt: skip
    return data_dir, result


def test_every_dbt_unit_test_passes_on_an_empty_warehouse(built_empty):
    data_dir, result = built_empty
    assert result.exception is None, result.exception
    # Exposures are no-ops in a build; every model, seed and unit test must succeed.
    outcomes = {r.node.name: str(r.status) for r in result.result.results if r.node.resource_type != "exposure"}
    failed = {name: status for name, status in outcomes.items() if status not in ("pass", "success")}
    assert failed == {}, failed
    assert result.success
    ran = {r.node.name for r in result.result.results if r.node.resource_type == "unit_test"}
    # Every unit test the project defines ran (none lost to a selector), and there are some.
    assert ran == unit_tests_defined(data_dir / "target" / "manifest.json")
    assert len(ran) >= 20
