"""The project's ``replace_groups`` incremental strategy (macros/incremental_strategy.sql), on a
one-model dbt project: the groups a run computes replace the model's rows for those groups; other
groups are kept; and the delete matches the distinct groups, not every new row."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from orchestration.settings import REPO_ROOT

# dbt runs a one-model project several times: make test runs it, make test-fast does not.
pytestmark = [pytest.mark.slow]

STRATEGY_MACRO = REPO_ROOT / "dbt_project" / "macros" / "incremental_strategy.sql"

MODEL = """{{ config(materialized='incremental', unique_key=['service_id', 'period_month'],
                    incremental_strategy='replace_groups') }}
select service_id, period_month, item, amount from main.incoming
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "macros").mkdir()
    shutil.copy(STRATEGY_MACRO, tmp_path / "macros" / STRATEGY_MACRO.name)
    (tmp_path / "models" / "by_month.sql").write_text(MODEL)
    (tmp_path / "dbt_project.yml").write_text(
        "name: strategy_check\nversion: '1.0.0'\nprofile: strategy_check\nconfig-version: 2\n"
        "flags:\n  send_anonymous_usage_stats: false\n"
    )
    (tmp_path / "profiles.yml").write_text(
        "strategy_check:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: '{tmp_path / 'check.duckdb'}'\n      threads: 1\n"
    )
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    return tmp_path


def _deliver(project: Path, rows: list[tuple]) -> None:
    with duckdb.connect(str(project / "check.duckdb")) as con:
        con.execute(
            "create or replace table main.incoming "
            "(service_id varchar, period_month date, item varchar, amount integer)"
        )
        con.executemany("insert into main.incoming values (?, ?, ?, ?)", rows)


def _run(project: Path) -> None:
    result = dbtRunner().invoke(
        [
            "run",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(project / "target"),
            "--log-path",
            str(project / "logs"),
        ]
    )
    assert result.success, result.exception


def _held(project: Path) -> list[tuple]:
    with duckdb.connect(str(project / "check.duckdb")) as con:
        return con.execute(
            "select service_id, strftime(period_month, '%Y-%m'), item, amount from main.by_month order by all"
        ).fetchall()


def test_the_groups_a_run_computes_replace_theirs_and_the_rest_stay(project):
    _deliver(
        project,
        [
            ("A", "2024-01-01", "a1", 1),
            ("A", "2024-01-01", "a2", 2),
            ("A", "2024-01-01", "a3", 3),
            ("A", "2024-02-01", "a4", 4),
            ("A", "2024-02-01", "a5", 5),
            ("B", "2024-01-01", "b1", 6),
        ],
    )
    _run(project)
    assert len(_held(project)) == 6

    # A's February re-delivered with one record (a5 withdrawn, a4 restated), B's February new.
    _deliver(project, [("A", "2024-02-01", "a4", 40), ("B", "2024-02-01", "b2", 7)])
    _run(project)
    assert _held(project) == [
        ("A", "2024-01", "a1", 1),
        ("A", "2024-01", "a2", 2),
        ("A", "2024-01", "a3", 3),
        ("A", "2024-02", "a4", 40),
        ("B", "2024-01", "b1", 6),
        ("B", "2024-02", "b2", 7),
    ]

    compiled = next((project / "target" / "run").rglob("by_month.sql")).read_text().lower()
    assert "in (select distinct service_id, period_month from" in " ".join(compiled.split())
    assert " using " not in compiled  # no join of held rows to every new row of their group
