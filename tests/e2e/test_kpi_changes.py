"""A changed KPI definition restates every earlier month on the next ordinary run, with no flag:
the pipeline finds the change (orchestration/dbt_definitions.py) and says so in one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import REPO_ROOT
from orchestration.simulator import SimulatorConfig, generate

pytestmark = [pytest.mark.slow]

# INC_TOTAL's numerator in the copy of the project: every incident counted twice, and the model's
# unit test says so too (a unit test reads only its fixtures: it changes nothing stored).
OBSERVATIONS = Path("models") / "kpi" / "observations"
NUMERATOR = "select 'INC_TOTAL' as kpi_code, org_unit_id, service_id, period_month, cast(incidents as double)"
DOUBLED = NUMERATOR.replace("cast(incidents as double)", "cast(incidents * 2 as double)")
UNIT_TEST_ROW = "{{kpi_code: INC_TOTAL, org_unit_id: {unit}, numerator: {n},"
UNIT_TEST_ROWS = {
    UNIT_TEST_ROW.format(unit=unit, n=n): UNIT_TEST_ROW.format(unit=unit, n=2 * n)
    for unit, n in (("ESX-S1", 9), ("LON", 7))
}
CHANGE_LINE = (
    "dbt: 1 definition changed since the last build (model int_kpi_observations__incidents): "
    "rebuilding every month (--full-refresh)"
)


def copy_project(to: Path) -> Path:
    """The dbt project and the seeds it reads (``seed-paths: ../seeds``), without dbt's output."""
    shutil.copytree(REPO_ROOT / "dbt_project", to / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copytree(REPO_ROOT / "seeds", to / "seeds")
    return to / "dbt_project"


def run_pipeline(data_dir: Path, project_dir: Path) -> str:
    """``python -m orchestration.cli pipeline`` on the copy of the project: what it printed."""
    env = os.environ | {
        "GT_DATA_DIR": str(data_dir),
        "DAGSTER_HOME": str(data_dir / "dagster_home"),
        "GT_DBT_PROJECT_DIR": str(project_dir),
        # Simulated data only: the real public data adds time and nothing to this test.
        "GT_REAL_DATA_DIR": str(data_dir / "no-real-data"),
        "REQUIRE_REAL_DATA": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "pipeline"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    printed = done.stdout + done.stderr
    assert done.returncode == 0, printed[-4000:]
    return printed


def edit(path: Path, replacements: dict[str, str]) -> None:
    text = path.read_text()
    for old, new in replacements.items():
        assert text.count(old) == 1, (path, old)
        text = text.replace(old, new)
    path.write_text(text)


def monthly_values(data_dir: Path) -> dict[tuple[str, str, str], float | None]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select kpi_code, org_unit_id, period_month::varchar, value from marts.rpt_kpi_monthly"
        ).fetchall()
    return {(kpi, unit, month): value for kpi, unit, month, value in rows}


def test_a_changed_kpi_numerator_restates_every_earlier_month_without_a_flag(tmp_path):
    data_dir = tmp_path / "data"
    project_dir = copy_project(tmp_path / "project")
    generate(SimulatorConfig(years=1), data_dir / "landing")
    first = run_pipeline(data_dir, project_dir)
    assert "definition" not in first  # the first build rebuilds everything anyway
    before = monthly_values(data_dir)

    edit(project_dir / OBSERVATIONS / "int_kpi_observations__incidents.sql", {NUMERATOR: DOUBLED})
    edit(project_dir / OBSERVATIONS / "_observations__unit_tests.yml", UNIT_TEST_ROWS)
    second = run_pipeline(data_dir, project_dir)

    warnings = [line for line in second.splitlines() if "definition" in line]
    assert len(warnings) == 1 and warnings[0].endswith(CHANGE_LINE), second[-4000:]
    after = monthly_values(data_dir)
    assert after.keys() == before.keys()
    incidents = {key: value for key, value in before.items() if key[0] == "INC_TOTAL" and value}
    months = {month for _, _, month in incidents}
    assert len(months) >= 6, months  # April to October 2026; the close itself is October's
    restated = {key for key, value in incidents.items() if after[key] == 2 * value}
    assert restated == incidents.keys(), sorted(set(incidents) - restated)[:5]
    others = {key for key in before if key[0] != "INC_TOTAL" and before[key] != after[key]}
    assert not others, sorted(others)[:5]
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        builds = con.execute("select full_refresh from audit.dbt_invocations order by finished_at").fetchall()
    assert builds == [(True,), (True,)]
