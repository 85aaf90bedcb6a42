"""The app's data access: one connection helper that alone opens serving.duckdb, and query modules
by concern that only select from the marts. A tiny serving database made here, not the demo."""

from __future__ import annotations

import ast
import datetime as dt
import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_fixtures import APP_DIR  # noqa: E402

if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

from data_access import connection, reference  # noqa: E402

PACKAGE = APP_DIR / "data_access"


def test_no_published_database_is_a_clear_error_naming_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GT_DATA_DIR", str(tmp_path))
    assert not connection.is_published()
    with pytest.raises(FileNotFoundError, match=r"serving\.duckdb does not exist yet: run `make pipeline` first"):
        reference.services()


def test_dates_come_back_as_dates_and_the_file_is_left_unlocked(tmp_path: Path, monkeypatch) -> None:
    con = duckdb.connect(str(tmp_path / "serving.duckdb"))
    con.execute("create schema meta")
    con.execute(
        "create table meta.publish_info as select 'run-1' as run_id, date '2026-11-01' as as_of, "
        "timestamp '2026-11-02 06:00:00' as published_at, 42 as tables_published"
    )
    con.close()
    monkeypatch.setenv("GT_DATA_DIR", str(tmp_path))
    info = connection.publish_info()
    assert info["as_of"] == dt.date(2026, 11, 1) and info["run_id"] == "run-1"
    assert connection.table_exists("meta", "publish_info") and not connection.table_exists("meta", "nothing")
    assert connection.table_columns("meta", "publish_info") == ["run_id", "as_of", "published_at", "tables_published"]
    # Each query closed its connection: a writer (the pipeline's publish) can open the file at once.
    duckdb.connect(str(tmp_path / "serving.duckdb")).close()


def test_only_the_connection_module_opens_the_database() -> None:
    """Pages and query modules go through connection.query: nothing else in the app may hold the
    file (a long-lived connection blocks the pipeline's publish)."""
    opening = []
    for path in sorted(APP_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
            if "duckdb" in names or (isinstance(node, ast.ImportFrom) and node.module == "duckdb"):
                opening.append(str(path.relative_to(APP_DIR)))
    assert opening == ["data_access/connection.py"]


def test_every_query_module_is_documented_in_the_package() -> None:
    listed = (PACKAGE / "__init__.py").read_text()
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    assert modules == [
        "annual_plan", "approvals", "commentary", "connection", "drill_through", "funnel", "geography", "ingestion",
        "monthly", "people", "quality", "quarterly", "reference", "report_sql", "scope",
    ]  # fmt: skip
    assert [m for m in modules if f"\n    {m} " not in listed] == []
