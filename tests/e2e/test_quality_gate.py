"""The publish gate end to end: a blocking data-quality failure leaves serving.duckdb exactly as
it was and fails the run naming the suite, expectation, counts and keys; a warning publishes
and marks the affected KPI values."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import REPO_ROOT
from tests.conftest import assert_same_rows_in, run_pipeline

pytestmark = [pytest.mark.slow]


@pytest.fixture
def copy_of_demo(demo_pipeline: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(demo_pipeline, target)
    return target


# Every dbt run in this module reads its warehouse through one GT_DATA_DIR (a link to the copy it
# runs on) with one target folder per set of vars: dbt parses the project again whenever the path in
# its profile or the vars change (about 10 s of CPU), so this way it parses once per set of vars.
_DBT_HOME: dict[str, Path] = {}


@pytest.fixture(scope="module", autouse=True)
def dbt_home(tmp_path_factory) -> Path:
    _DBT_HOME["root"] = tmp_path_factory.mktemp("dbt_home")
    return _DBT_HOME["root"]


def run_dbt(
    data: Path, tmp_path: Path, *args: str, as_of: str = "2026-11-01", check: bool = True, **more_vars
) -> subprocess.CompletedProcess:
    """dbt on the warehouse in ``data`` (its log folder under ``tmp_path``)."""
    dbt = Path(sys.executable).parent / "dbt"
    dbt_vars = json.dumps({"as_of": as_of, **more_vars}, sort_keys=True)
    home = _DBT_HOME["root"]
    link = home / "data" / "warehouse.duckdb"
    link.parent.mkdir(exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(data / "warehouse.duckdb")
    target = home / ("target_" + hashlib.sha256(dbt_vars.encode()).hexdigest()[:12])
    done = subprocess.run(
        [str(dbt), *args, "--vars", dbt_vars]
        + ["--project-dir", "dbt_project", "--profiles-dir", "dbt_project"]
        + ["--target-path", str(target), "--log-path", str(tmp_path / "logs"), "--quiet"],
        cwd=REPO_ROOT,
        env={**os.environ, "GT_DATA_DIR": str(link.parent), "DO_NOT_TRACK": "1"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert not link.with_name("warehouse.duckdb.wal").exists(), "dbt left a write-ahead log beside the link"
    assert done.returncode == 0 or not check, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def failure_messages(result) -> str:
    texts = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error is not None:
                texts.append(error.message)
                error = error.cause
    return "\n".join(texts)


def test_blocking_failure_keeps_the_old_serving_file_byte_for_byte(copy_of_demo, optional_real_data_dir):
    serving = copy_of_demo / "serving.duckdb"
    before = serving.read_bytes()
    # A competence extract naming a member of staff HR has never heard of: ingestion accepts the
    # row (its own fields are valid) but the cross-system suite refuses it, blocking.
    (extract,) = sorted((copy_of_demo / "landing" / "competence").rglob("competence_*.csv"))
    lines = extract.read_text().splitlines()
    header, first = lines[0].split(","), lines[1].split(",")
    first[header.index("record_id")] = "ZZ-UNKNOWN-1"
    first[header.index("staff_number")] = "ESX999999"
    newer = extract.with_name("competence_2026-11-30.csv")
    newer.write_text("\n".join([lines[0], *lines[1:], ",".join(first)]) + "\n")

    result = run_pipeline(copy_of_demo, optional_real_data_dir)

    assert not result.success
    message = failure_messages(result)
    assert "raw.competence__records" in message and "_dq_unknown_staff_key" in message
    assert "staff_key" in message and "1 of" in message
    assert serving.read_bytes() == before
    with duckdb.connect(str(copy_of_demo / "warehouse.duckdb"), read_only=True) as con:
        flags = con.execute(
            "select severity, _source_file from audit.dq_record_flags where target = 'raw.competence__records'"
        ).fetchall()
    assert flags == [("blocking", "competence/ESX/competence_2026-11-30.csv")]


@pytest.fixture(scope="module")
def redelivered(demo_pipeline: Path, tmp_path_factory, optional_real_data_dir):
    """The demo with two late corrections landed and the pipeline run again (incrementally):
    October's mobilisations re-delivered with one appliance turning out in 4 seconds (in
    sequence and inside the hour, so ingestion loads it, but implausible: a warning), and an
    earlier month of incidents re-delivered with one record re-classified. May's incidents are
    also re-delivered header-only, which is held (test_a_withdrawn_month_leaves_the_marts_in_the_next_close):
    a held file changes no row, so the same close serves both (one close fewer in the suite)."""
    data = tmp_path_factory.mktemp("redelivered") / "data"
    shutil.copytree(demo_pipeline, data)
    (latest,) = sorted((data / "landing" / "mobilising").rglob("mobilisations_2026-10.jsonl"))
    records = [json.loads(line) for line in latest.read_text().splitlines()]
    target = next(r for r in records if r["pump_order"] == 1 and r["mobile_at"])
    mobilised = target["mobilised_at"]
    target["mobile_at"] = mobilised[:-2] + f"{min(int(mobilised[-2:]) + 4, 59):02d}"
    latest.with_name("mobilisations_2026-10_r2.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")

    (june,) = sorted((data / "landing" / "irs").rglob("incidents_2026-06.csv"))
    lines = june.read_text().splitlines()
    header = lines[0].split(",")
    category = header.index("incident_category")
    kind, place = header.index("incident_type"), header.index("property_category")
    # A non-domestic automatic fire alarm, so the correction moves a KPI (AFA_1K_NONDOM) in June.
    changed = next(
        i
        for i, line in enumerate(lines[1:], 1)
        if line.split(",")[category] == "false_alarm"
        and line.split(",")[kind] == "apparatus"
        and line.split(",")[place] == "non_domestic"
    )
    fields = lines[changed].split(",")
    incident_id = fields[0]
    # The whole month again, one false alarm now recorded as a secondary fire.
    fields[category], fields[kind], fields[place] = "secondary_fire", "fire", "outdoor"
    lines[changed] = ",".join(fields)
    june.with_name("incidents_2026-06_r2.csv").write_text("\n".join(lines) + "\n")
    (may,) = sorted((data / "landing" / "irs").rglob("incidents_2026-05.csv"))
    may.with_name("incidents_2026-05_r2.csv").write_text(may.read_text().splitlines()[0] + "\n")

    result = run_pipeline(data, optional_real_data_dir)
    assert result.success, failure_messages(result)
    return data, target, incident_id


def test_warnings_publish_and_mark_the_kpi_values(redelivered):
    data, target, _ = redelivered
    with duckdb.connect(str(data / "serving.duckdb"), read_only=True) as con:
        station = "ESX-" + target["station_id"]
        marked = con.execute(
            "select org_unit_id, dq_status, dq_note from marts.rpt_kpi_monthly "
            "where kpi_code = 'RESP_ADF_MEAN_MIN' and period_month = '2026-10-01' and dq_status = 'warn'"
        ).fetchall()
        # September's values carry no mobilising warning (HR's overlapping sickness spells, which the
        # simulator draws, mark the HR-fed KPIs in every month).
        clean = con.execute(
            "select count(*) from marts.rpt_kpi_monthly where service_id = 'ESX' and period_month = '2026-09-01' "
            "and dq_status <> 'pass' and dq_note like '%mobilising%'"
        ).fetchall()[0][0]
        flags = con.execute(
            "select count(*) from audit.dq_record_flags where target = 'raw.mobilising__mobilisations' "
            "and severity = 'warning' and _source_file like '%_r2.jsonl'"
        ).fetchall()[0][0]
    units = {r[0] for r in marked}
    assert {station, "ESX"} <= units
    assert all("mobilising: 1 flagged" in r[2] for r in marked)
    assert clean == 0 and flags >= 1


def test_redelivered_month_supersedes_in_the_marts(redelivered):
    data, _, incident_id = redelivered
    with duckdb.connect(str(data / "serving.duckdb"), read_only=True) as con:
        category = con.execute(
            "select incident_category from marts.fct_incidents where incident_id = ?", [incident_id]
        ).fetchall()
    assert category == [("secondary_fire",)]


def test_the_close_checks_and_publishes_only_what_its_build_rewrote(redelivered):
    """The close's mart gate read only the (service, month) groups its dbt build rewrote, and
    serving.duckdb was built on top of the previous one; it still equals the warehouse."""
    data, _, _ = redelivered
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        (run_id, invocation_id) = con.execute(
            "select run_id, invocation_id from audit.dbt_invocations order by finished_at desc limit 1"
        ).fetchall()[0]
        gate = dict(
            con.execute(
                "select suite, batch_label from audit.dq_runs where run_id = ? and target = 'marts.rpt_kpi_monthly'",
                [run_id],
            ).fetchall()
        )
        validated = con.execute(
            "select rows_validated from audit.dq_runs where run_id = ? and suite = 'marts.rpt_kpi_monthly.values'",
            [run_id],
        ).fetchall()[0][0]
        rewritten = con.execute(
            "select count(*) from marts.rpt_kpi_monthly where (service_id, period_month) in "
            "(select service_id, period_month from marts.rpt_kpi_monthly where _invocation_id = ?) "
            "and period_month < '2026-11-01'",
            [invocation_id],
        ).fetchall()[0][0]
        total = con.execute("select count(*) from marts.rpt_kpi_monthly").fetchall()[0][0]
    for suite in ("values", "presence", "rollups"):
        assert f"months rewritten by dbt invocation {invocation_id}" in gate[f"marts.rpt_kpi_monthly.{suite}"]
    assert 0 < validated == rewritten < total

    with duckdb.connect(str(data / "serving.duckdb"), read_only=True) as con:
        how = dict(con.execute("select table_schema || '.' || table_name, how from meta.published_tables").fetchall())
        assert con.execute("select run_id from meta.publish_info").fetchall() == [(run_id,)]
    assert how["marts.rpt_kpi_monthly"] == how["marts.fct_incidents"] == "rows replaced"
    assert how["marts.fct_oncall_availability"] == "rows replaced"
    assert how["marts.dim_kpi"] == "kept" and how["audit.ingestion_log"] == "copied"
    with duckdb.connect() as con:
        con.execute(f"attach '{data / 'warehouse.duckdb'}' as wh (read_only)")
        con.execute(f"attach '{data / 'serving.duckdb'}' as pub (read_only)")
        for name in how:
            assert_same_rows_in(con, name, "wh", "pub")


def test_a_build_tests_the_rows_no_successful_build_has_tested(redelivered, tmp_path):
    """In a dbt build, tests on incremental models read only rows written by builds not recorded as
    successful; dbt test alone, or test_all_rows, reads every row."""
    data, _, _ = redelivered
    copy = tmp_path / "data"
    copy.mkdir()
    shutil.copy2(data / "warehouse.duckdb", copy / "warehouse.duckdb")
    bad = "kpi_code = 'INC_TOTAL' and org_unit_id = 'ESX' and period_month = '2025-05-01'"
    with duckdb.connect(str(copy / "warehouse.duckdb")) as con:
        # An old row, written and tested by a successful build, goes bad afterwards.
        assert con.execute(f"update marts.rpt_kpi_monthly set org_level = 'county' where {bad}").fetchall()[0][0] == 1
    select = ("--select", "rpt_kpi_monthly", "--exclude", "test_type:unit")
    assert run_dbt(copy, tmp_path, "build", *select, check=False).returncode == 0
    failed = run_dbt(copy, tmp_path, "build", *select, check=False, test_all_rows=True)
    assert failed.returncode != 0 and "rpt_kpi_monthly__checks" in failed.stdout
    assert run_dbt(copy, tmp_path, "test", *select, check=False).returncode != 0
    with duckdb.connect(str(copy / "warehouse.duckdb")) as con:
        # The same row as if written by a build the pipeline did not record (dbt run by hand).
        con.execute(f"update marts.rpt_kpi_monthly set _invocation_id = 'by-hand' where {bad}")
    failed = run_dbt(copy, tmp_path, "build", *select, check=False)
    assert failed.returncode != 0 and "rpt_kpi_monthly__checks" in failed.stdout


def test_the_close_recomputes_only_its_month_and_the_redelivered_ones(redelivered):
    """The close of October, with June's incidents and October's mobilisations re-delivered,
    rewrote the station-month aggregates for those two months and no other."""
    data, _, _ = redelivered
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        for table in ("int_incidents_by_station_month", "int_response_by_station_month"):
            rewritten = con.execute(
                f"select distinct cast(period_month as varchar) from intermediate.{table} where _invocation_id = "
                f"(select _invocation_id from intermediate.{table} where period_month = '2026-10-01' limit 1) "
                "order by 1"
            ).fetchall()
            assert [r[0] for r in rewritten] == ["2026-06-01", "2026-10-01"], table
            months = con.execute(f"select count(distinct period_month) from intermediate.{table}").fetchall()[0][0]
            assert months > 12


def test_the_close_recomputes_the_kpi_chain_from_the_first_changed_month(demo_pipeline, redelivered):
    """Above the aggregates, the close compared the recomputed observations with the stored ones,
    rewrote only June (re-delivered) and October (closed), and recomputed the KPI values, SPC and
    the report from June to October: YTD, last year's comparisons and SPC look back only, so no
    earlier month can change, and none was rewritten. The report also rewrote the months whose
    cascaded target moved (June is part of the history that shares out some targets), and only
    those."""
    data, _, _ = redelivered
    with duckdb.connect() as con:
        con.execute(f"attach '{demo_pipeline / 'warehouse.duckdb'}' as before_close (read_only)")
        con.execute(f"attach '{data / 'warehouse.duckdb'}' as after_close (read_only)")
        close = con.execute(
            "select any_value(_invocation_id) from after_close.intermediate.int_incidents_by_station_month "
            "where period_month = '2026-10-01'"
        ).fetchall()[0][0]

        def rewritten(table: str) -> list[str]:
            rows = con.execute(
                f"select distinct cast(period_month as varchar) from after_close.{table} "
                "where _invocation_id = ? order by 1",
                [close],
            ).fetchall()
            return [r[0] for r in rows]

        # June's AFA count changed; October's only if the re-delivered mobilisations moved a figure.
        assert rewritten("marts.fct_kpi_observations") in (["2026-06-01"], ["2026-06-01", "2026-10-01"])
        afa = con.execute(
            "select kpi_code from after_close.marts.fct_kpi_observations "
            "where _invocation_id = ? and kpi_code = 'AFA_1K_NONDOM'",
            [close],
        ).fetchall()
        assert afa
        june_to_october = ["2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01"]
        for table in (
            "intermediate.int_kpi_rolled_up_monthly",
            "intermediate.int_kpi_monthly_values",
            "intermediate.int_kpi_monthly_spc",
        ):
            assert rewritten(table) == june_to_october, table
            months = con.execute(f"select count(distinct period_month) from after_close.{table}").fetchall()[0][0]
            assert months > 12, table
        targets = "kpi_code, org_unit_id, period_month, round(target, 9), target_source"
        retargeted = {
            str(r[0])
            for r in con.execute(
                f"select distinct period_month from (select {targets} from after_close.marts.rpt_kpi_monthly "
                f"except select {targets} from before_close.marts.rpt_kpi_monthly)"
            ).fetchall()
        }
        assert rewritten("marts.rpt_kpi_monthly") == sorted(set(june_to_october) | retargeted)
        assert (
            len(rewritten("marts.rpt_kpi_monthly"))
            < con.execute("select count(distinct period_month) from after_close.marts.rpt_kpi_monthly").fetchall()[0][0]
        )
        recompute_from = con.execute(
            "select min(from_month) from after_close.intermediate.int_kpi_months_to_recompute"
        ).fetchall()[0][0]
    assert str(recompute_from) == "2026-06-01"


def test_incremental_build_equals_a_full_rebuild(redelivered, tmp_path):
    """The incremental models (facts and station-month aggregates, processed month by month) and
    everything built on them equal a --full-refresh rebuild, row for row."""
    data, _, _ = redelivered
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    shutil.copy2(data / "warehouse.duckdb", rebuilt / "warehouse.duckdb")
    run_dbt(rebuilt, tmp_path, "build", "--full-refresh", "--exclude", "test_type:unit")
    with duckdb.connect() as con:
        con.execute(f"attach '{data / 'warehouse.duckdb'}' as incremental (read_only)")
        con.execute(f"attach '{rebuilt / 'warehouse.duckdb'}' as full_build (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'incremental' "
            "and schema_name in ('marts', 'intermediate')"
        ).fetchall()
        assert {
            ("marts", "fct_incidents"),
            ("marts", "fct_incident_response"),
            ("marts", "fct_appliance_mobilisations"),
            ("marts", "fct_oncall_availability"),
            ("intermediate", "int_incidents_by_station_month"),
            ("intermediate", "int_response_by_station_month"),
            ("marts", "rpt_kpi_monthly"),
        } <= set(tables)
        # The months each run recomputed differ by construction (a full build lists them all).
        tables = [(s, t) for s, t in tables if t != "int_kpi_months_to_recompute"]
        for schema, table in tables:
            columns = con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where database_name = 'incremental' and schema_name = ? and table_name = ? "
                "order by column_index",
                [schema, table],
            ).fetchall()
            # Which dbt run wrote a row differs by construction; everything else must not.
            columns = [(c, t) for c, t in columns if c != "_invocation_id"]
            assert_same_rows(con, f"{schema}.{table}", columns)


def test_a_withdrawn_month_leaves_the_marts_in_the_next_close(
    demo_pipeline, redelivered, optional_real_data_dir, tmp_path
):
    """A header-only revision of a month with rows is held: that close (the redelivered one)
    publishes the month as it was. Once a person accepts it, it withdraws the month. The
    incremental models replace the months a build computes, and a withdrawn month computes none,
    so the next close rebuilds every model: the month's incidents leave the marts and the published
    file. The next close is incremental.

    That last close also takes in a re-delivered station list that drops a watch: visits are placed
    at their watch through the hierarchy, so it places that watch's visits of every month at the
    station, as a full rebuild would, although no visit was delivered again."""
    from orchestration.deliveries import accept

    data = tmp_path / "data"
    shutil.copytree(redelivered[0], data)
    (may,) = sorted((data / "landing" / "irs").rglob("incidents_2026-05.csv"))
    service = may.parent.name
    month = "select count(*) from {} where service_id = ? and period_month = date '2026-05-01'"
    with duckdb.connect(str(demo_pipeline / "warehouse.duckdb"), read_only=True) as con:
        before = con.execute(month.format("marts.fct_incidents"), [service]).fetchone()[0]
    assert before > 0
    r2 = f"irs/{service}/incidents_2026-05_r2.csv"
    assert (data / "landing" / r2).read_text().count("\n") == 1  # header only

    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        assert con.execute(month.format("marts.fct_incidents"), [service]).fetchone()[0] == before
        assert con.execute("select status from audit.ingestion_log where file_name = ?", [r2]).fetchall() == [
            ("held",)
        ]
        assert con.execute("select full_refresh from audit.dbt_invocations order by finished_at desc").fetchone() == (
            False,
        )
        accept(con, r2, by="e2e", reason="May withdrawn by the source")

    result = run_pipeline(data, optional_real_data_dir)
    assert result.success, failure_messages(result)
    published = ("marts.fct_incidents", "marts.fct_incident_response")
    for database, tables in (
        ("warehouse.duckdb", (*published, "intermediate.int_incidents_by_station_month")),
        ("serving.duckdb", published),
    ):
        with duckdb.connect(str(data / database), read_only=True) as con:
            for table in tables:
                assert con.execute(month.format(table), [service]).fetchone()[0] == 0, (database, table)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        builds = con.execute("select full_refresh from audit.dbt_invocations order by finished_at").fetchall()
    assert builds[-1] == (True,)

    # May again, still empty: a month that holds nothing already withdraws nothing, so the next
    # close is incremental again. The station list re-delivered in the same close drops a watch.
    may.with_name("incidents_2026-05_r3.csv").write_text(may.read_text().splitlines()[0] + "\n")
    (stations,) = sorted((data / "landing" / "reference").rglob("stations_2026-10-31.csv"))
    lines = stations.read_text().splitlines()
    header = lines[0].split(",")
    station, watches = header.index("station_id"), header.index("watches")
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        unit, months = con.execute(
            "select org_unit_id, count(distinct period_month) from marts.fct_home_fire_safety_visits "
            "where org_unit_id like '%-GREEN' group by 1 order by 2 desc, 1 limit 1"
        ).fetchall()[0]
    assert months > 1  # visits of several months, all delivered before this close
    station_sk = unit.rsplit("-", 1)[0]
    station_id = station_sk.split("-", 1)[1]
    for i, line in enumerate(lines[1:], 1):
        fields = line.split(",")
        if fields[station] == station_id:
            fields[watches] = ";".join(w for w in fields[watches].split(";") if w != "Green")
            lines[i] = ",".join(fields)
    stations.with_name("stations_2026-10-31_r2.csv").write_text("\n".join(lines) + "\n")

    result = run_pipeline(data, optional_real_data_dir)
    assert result.success, failure_messages(result)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        builds = con.execute("select full_refresh from audit.dbt_invocations order by finished_at").fetchall()
        assert con.execute(month.format("marts.fct_incidents"), [service]).fetchone()[0] == 0
        placed = con.execute(
            "select org_unit_id, count(distinct period_month) from marts.fct_home_fire_safety_visits "
            "where station_sk = ? and org_unit_id in (?, ?) group by 1 order by 1",
            [station_sk, unit, station_sk],
        ).fetchall()
    assert builds[-1] == (False,)
    assert unit not in dict(placed)
    assert dict(placed)[station_sk] >= months


def assert_same_rows(con, name: str, columns: list[tuple[str, str]]) -> None:
    """The ``incremental`` and ``full_build`` copies of ``name`` hold the same rows. Doubles are
    equal to a relative 1e-9: parallel sums add in a different order from run to run, which moves
    the last bits (37.06666666666667 vs 37.06666666666666). Rounding both sides to a fixed number
    of places would not absorb that for a value on a rounding boundary, so the other columns are
    compared exactly (as multisets) and, grouped by them, each double's count, sum, min and max."""
    others = [f'"{c}"' for c, t in columns if t != "DOUBLE"]
    doubles = [f'"{c}"' for c, t in columns if t == "DOUBLE"]
    select = ", ".join(others) or "1"
    assert_same_rows_in(con, name, "incremental", "full_build", select, label="the {} build")
    if not doubles:
        return
    group = f"group by {select}" if others else ""
    stats = ", ".join(f"{f}({d}) as {f}_{i}" for i, d in enumerate(doubles) for f in ("count", "sum", "min", "max"))
    on = " and ".join(f"i.{c} is not distinct from f.{c}" for c in others) or "true"
    differ = " or ".join(
        f"not coalesce(i.{s} is not distinct from f.{s} "
        f"or abs(i.{s} - f.{s}) <= 1e-9 * greatest(abs(i.{s}), abs(f.{s})), false)"
        for i in range(len(doubles))
        for s in (f"count_{i}", f"sum_{i}", f"min_{i}", f"max_{i}")
    )
    rows = con.execute(
        f"with i as (select {select}, {stats} from incremental.{name} {group}), "
        f"f as (select {select}, {stats} from full_build.{name} {group}) "
        f"select count(*) from i join f on {on} where {differ}"
    ).fetchall()[0][0]
    assert rows == 0, f"{name}: {rows} groups whose doubles differ by more than a relative 1e-9"


def test_clean_simulated_data_has_no_blocking_failure_and_no_flag(demo_pipeline):
    # Except one thing: the simulator draws a person's sickness spells independently, so some
    # overlap. The raw suite flags each such spell (a warning), so the KPIs fed by HR are marked;
    # every other KPI value passes.
    with duckdb.connect(str(demo_pipeline / "serving.duckdb"), read_only=True) as con:
        blocking = con.execute("select count(*) from audit.dq_runs where blocking_failures > 0").fetchall()[0][0]
        flags = con.execute(
            "select count(*) from audit.dq_record_flags where service_id = 'ESX' "
            "and column_name <> '_dq_overlapping_spells'"
        ).fetchall()[0][0]
        overlaps = con.execute(
            "select distinct target, severity from audit.dq_record_flags where service_id = 'ESX' "
            "and column_name = '_dq_overlapping_spells'"
        ).fetchall()
        runs = con.execute("select count(*) from audit.dq_runs").fetchall()[0][0]
        statuses = con.execute(
            "select distinct r.dq_status, k.source_systems like '%hr%' from marts.rpt_kpi_monthly as r "
            "join marts.dim_kpi as k using (kpi_code) where r.service_id = 'ESX' order by 1, 2"
        ).fetchall()
    assert runs > 0 and blocking == 0 and flags == 0
    assert overlaps == [("raw.hr__absences", "warning")]
    assert statuses == [("pass", False), ("warn", True)]


def test_a_recomputed_sum_that_differs_in_its_last_bits_is_not_a_change(copy_of_demo, tmp_path):
    """fct_kpi_observations rewrites only the (service, month) groups whose figures changed. A
    parallel sum of doubles adds in whatever order it meets the rows, so a recomputation can differ
    from the stored figure in its last bits: that is not a change, while one part in a million is."""
    warehouse = copy_of_demo / "warehouse.duckdb"
    groups = (
        "select service_id, cast(period_month as varchar), any_value(_invocation_id) "
        "from marts.fct_kpi_observations group by all"
    )
    with duckdb.connect(str(warehouse)) as con:
        nudged = {}
        for month, factor in (("2025-05-01", 1 + 4e-15), ("2025-08-01", 1 + 1e-6)):
            sk, service, numerator = con.execute(
                "select kpi_observation_sk, service_id, numerator from marts.fct_kpi_observations "
                "where numerator <> round(numerator) and period_month = ? order by kpi_observation_sk limit 1",
                [month],
            ).fetchall()[0]
            con.execute(
                "update marts.fct_kpi_observations set numerator = numerator * ? where kpi_observation_sk = ?",
                [factor, sk],
            )
            nudged[month] = (sk, service, numerator, numerator * factor)
        before = {(s, m): run for s, m, run in con.execute(groups).fetchall()}
    assert all(stored != numerator for _, _, numerator, stored in nudged.values())

    run_dbt(copy_of_demo, tmp_path, "run", "--select", "fct_kpi_observations")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = {(s, m): run for s, m, run in con.execute(groups).fetchall()}
        numerators = {
            month: con.execute(
                "select numerator from marts.fct_kpi_observations where kpi_observation_sk = ?", [sk]
            ).fetchall()[0][0]
            for month, (sk, *_) in nudged.items()
        }
    assert before.keys() == after.keys()
    _, changed_service, changed_numerator, _ = nudged["2025-08-01"]
    assert [group for group in after if after[group] != before[group]] == [(changed_service, "2025-08-01")]
    assert numerators["2025-08-01"] == pytest.approx(changed_numerator, rel=1e-12)
    assert numerators["2025-05-01"] == nudged["2025-05-01"][3]


def test_rows_compare_equal_up_to_the_last_bits_of_a_double_only():
    with duckdb.connect() as con:
        for db in ("incremental", "full_build"):
            con.execute(f"attach ':memory:' as {db}")
            con.execute(f"create table {db}.t (k varchar, n integer, x double)")
        con.execute("insert into incremental.t values ('a', 1, 37.06666666666667), ('b', null, 1.0), ('b', null, 2.0)")
        con.execute("insert into full_build.t values ('a', 1, 37.06666666666666), ('b', null, 2.0), ('b', null, 1.0)")
        columns = [("k", "VARCHAR"), ("n", "INTEGER"), ("x", "DOUBLE")]
        assert_same_rows(con, "t", columns)
        con.execute("update full_build.t set x = x * (1 + 1e-6) where k = 'a'")
        with pytest.raises(AssertionError, match="1 groups whose doubles differ"):
            assert_same_rows(con, "t", columns)
        con.execute("update full_build.t set x = 37.06666666666666, n = 2 where k = 'a'")
        with pytest.raises(AssertionError, match="rows in the incremental build"):
            assert_same_rows(con, "t", columns)
