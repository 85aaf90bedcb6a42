"""The dbt project's unit tests (KPI logic: financial quarters, RAG bands, roll-ups, YTD) on a warehouse
that holds no data: the sources made by the ingestion engine's own DDL, the unit-tested models and their
ancestors built empty (``--empty``, so their columns exist for the fixtures' types) and every unit test
run. No pipeline: this is the dbt half of ``make test-fast``."""

from __future__ import annotations

import fcntl
import hashlib
import json
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from expectations.store import ensure_dq_schema
from orchestration.ingestion.engine import ensure_all_raw_tables
from orchestration.settings import REPO_ROOT
from orchestration.warehouse import connect

DBT_PROJECT = REPO_ROOT / "dbt_project"

# One folder kept between sessions, under .pytest_cache (never the project's own target/, which is
# Dagster's manifest). dbt's partial parse in it is reused (a fresh target path, or another warehouse
# path in the profile, means a full parse: about 9 s of CPU); so is the empty warehouse, while
# nothing its columns come from has changed (building it is about 10 s of CPU).
WORK_DIR = REPO_ROOT / ".pytest_cache" / "dbt_unit_tests"

# Everything the empty warehouse's tables and columns come from, besides the sources' DDL.
PROJECT_FILES = [
    DBT_PROJECT / "dbt_project.yml", DBT_PROJECT / "profiles.yml", DBT_PROJECT / "models",
    DBT_PROJECT / "macros", DBT_PROJECT / "tests", REPO_ROOT / "seeds",
]  # fmt: skip
PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")

# Every unit test, the model it tests and that model's ancestors (a unit test needs its model's
# parents to exist); nothing downstream, and no data tests.
BUILD = ["build", "--empty", "--select", "+test_type:unit", "--exclude", "test_type:data"]
UNIT_TESTS_ONLY = ["test", "--select", "test_type:unit"]


def unit_tests_defined(manifest: Path) -> set[str]:
    """The unit tests dbt parsed from the project (by name)."""
    return {node["name"] for node in json.loads(manifest.read_text())["unit_tests"].values()}


def make_sources(con: duckdb.DuckDBPyConnection) -> str:
    """The sources dbt reads, empty; returns their columns as text (to fingerprint)."""
    ensure_all_raw_tables(con)
    ensure_dq_schema(con)
    columns = con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "order by all"
    ).fetchall()
    return "\n".join("|".join(map(str, row)) for row in columns)


def fingerprint(sources: str, paths: list[Path]) -> str:
    """A hash of the sources' columns, the package versions and every file under ``paths`` (names
    and bytes): when it is unchanged, so are the tables and columns an empty build makes."""
    digest = hashlib.sha256(sources.encode())
    digest.update(" ".join(f"{p}={version(p)}" for p in PACKAGES).encode())
    for root in paths:
        for path in sorted(p for p in ([root] if root.is_file() else root.rglob("*")) if p.is_file()):
            digest.update(f"\0{root.name}/{path.relative_to(root)}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def dbt(data_dir: Path, command: list[str]):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GT_DATA_DIR", str(data_dir))
        mp.setenv("DO_NOT_TRACK", "1")
        mp.delenv("GT_DBT_TARGET", raising=False)
        return dbtRunner().invoke([
            *command, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
            "--target-path", str(data_dir / "target"), "--log-path", str(data_dir / "logs"),
        ])  # fmt: skip


def run_unit_tests(data_dir: Path):
    """Every unit test, on the empty warehouse in ``data_dir``: kept from the last session if
    nothing it is made from changed, built anew otherwise. dbt's result, and whether it was kept."""
    warehouse = data_dir / "warehouse.duckdb"
    with duckdb.connect() as scratch:
        current = fingerprint(make_sources(scratch), PROJECT_FILES)
    stamp = data_dir / "warehouse.fingerprint"
    if warehouse.is_file() and stamp.is_file() and stamp.read_text() == current:
        return dbt(data_dir, UNIT_TESTS_ONLY), True
    stamp.unlink(missing_ok=True)
    for stale in (warehouse, data_dir / "warehouse.duckdb.wal"):
        stale.unlink(missing_ok=True)
    with connect(warehouse) as con:
        make_sources(con)
    result = dbt(data_dir, BUILD)
    if result.success:
        stamp.write_text(current)
    return result, False


@pytest.fixture(scope="module")
def unit_test_run():
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    # Two sessions at once in one checkout (make test beside make test-fast) take turns.
    with (WORK_DIR / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result, kept = run_unit_tests(WORK_DIR)
        defined = unit_tests_defined(WORK_DIR / "target" / "manifest.json")
    return result, kept, defined


def test_every_dbt_unit_test_passes_on_an_empty_warehouse(unit_test_run):
    result, kept, defined = unit_test_run
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
    if not kept:
        assert {str(r.node.resource_type) for r in result.result.results} >= {"model", "seed", "unit_test"}


def test_the_next_session_can_reuse_this_parse_and_warehouse(unit_test_run):
    # dbt writes its parse beside the manifest in the kept folder; the next session starts from it,
    # and from the warehouse, stamped with what it was built from.
    assert (WORK_DIR / "target" / "partial_parse.msgpack").stat().st_size > 0
    assert (WORK_DIR / "warehouse.duckdb").is_file()
    assert len((WORK_DIR / "warehouse.fingerprint").read_text()) == 64


def test_the_fingerprint_changes_with_any_file_or_source_column(tmp_path):
    models = tmp_path / "models"
    (models / "marts").mkdir(parents=True)
    (models / "marts" / "a.sql").write_text("select 1 as a")
    project = tmp_path / "dbt_project.yml"
    project.write_text("name: x")

    def fp(sources: str = "raw|t|a|INTEGER") -> str:
        return fingerprint(sources, [project, models])

    first = fp()
    assert fp() == first  # stable
    (models / "marts" / "a.sql").write_text("select 1 as a, 2 as b")
    edited = fp()
    assert edited != first
    (models / "marts" / "b.sql").write_text("select 1 as a")
    assert fp() != edited
    (models / "marts" / "b.sql").unlink()
    assert fp() == edited
    assert fp("raw|t|a|VARCHAR") != edited
    project.write_text("name: y")
    assert fp() != edited
