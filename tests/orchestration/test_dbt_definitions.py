"""Which definition changes leave stored months stale, on small hand-made dbt manifests; the
warehouse's record of what each build used; and the check a build runs before it starts."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from orchestration import dbt as dbt_module
from orchestration.dbt_definitions import VARS_ID, fingerprints, history_changes
from orchestration.warehouse import (
    connect,
    last_build_definitions,
    record_dbt_definitions,
    record_dbt_invocation,
)

P = "gt"


def model(name, materialized="table", parents=(), code=None, macros=(), meta=None, columns=None):
    return {
        f"model.{P}.{name}": {
            "resource_type": "model",
            "package_name": P,
            "raw_code": code if code is not None else f"select 1 as {name}_id",
            "checksum": {"name": "sha256", "checksum": f"sum of {code or name}"},
            "config": {"materialized": materialized, "meta": meta or {}, "tags": []},
            "columns": columns or {},
            "depends_on": {"nodes": [f"model.{P}.{p}" if "." not in p else p for p in parents], "macros": list(macros)},
        }
    }


def seed(name, checksum="v1"):
    return {
        f"seed.{P}.{name}": {
            "resource_type": "seed",
            "package_name": P,
            "checksum": {"name": "sha256", "checksum": checksum},
            "config": {"materialized": "seed"},
            "depends_on": {"nodes": [], "macros": []},
        }
    }


def generic_test(name, on, test="not_null", column="id"):
    return {
        f"test.{P}.{name}": {
            "resource_type": "test",
            "package_name": P,
            "raw_code": f"{{{{ test_{test}(**_dbt_generic_test_kwargs) }}}}",
            "checksum": {"name": "none", "checksum": ""},
            "config": {"severity": "ERROR", "where": None},
            "test_metadata": {"name": test, "kwargs": {"column_name": column}},
            "attached_node": f"model.{P}.{on}",
            "depends_on": {"nodes": [f"model.{P}.{on}"], "macros": [f"macro.dbt.test_{test}"]},
        }
    }


def singular_test(name, on, code="select 1 where false"):
    return {
        f"test.{P}.{name}": {
            "resource_type": "test",
            "package_name": P,
            "raw_code": code,
            "checksum": {"name": "sha256", "checksum": code},
            "config": {"severity": "ERROR"},
            "depends_on": {"nodes": [f"model.{P}.{on}"], "macros": []},
        }
    }


def macro(name, sql=None, calls=()):
    return {
        f"macro.{P}.{name}": {
            "name": name,
            "package_name": P,
            "macro_sql": sql or f"{{% macro {name}() %}}1{{% endmacro %}}",
            "depends_on": {"macros": list(calls)},
        }
    }


def manifest(*parts, macros=(), unit_tests=None):
    nodes = {}
    for part in parts:
        nodes |= part
    found_macros = {}
    for part in macros:
        found_macros |= part
    return {
        "metadata": {"project_name": P},
        "nodes": nodes,
        "macros": found_macros,
        "sources": {},
        "unit_tests": unit_tests or {},
    }


# A KPI chain like the project's: a seed and a view feed a table, which feeds an incremental
# model, read by a table report; a view on the side feeds only a table.
def kpi_project(**changes):
    return manifest(
        seed("kpi_catalogue", checksum=changes.get("seed", "v1")),
        model("stg_incidents", "view", code=changes.get("stg", "select * from raw")),
        model(
            "int_observations",
            "table",
            ["stg_incidents", f"seed.{P}.kpi_catalogue"],
            code=changes.get("int", "select count(*)"),
        ),
        model(
            "fct_kpi",
            "incremental",
            ["int_observations"],
            code=changes.get("fct", "select * from obs"),
            columns=changes.get("columns", {"kpi_id": {"data_type": "varchar", "description": "the KPI"}}),
        ),
        model("rpt_totals", "table", ["fct_kpi"], code=changes.get("rpt", "select sum(1)")),
        model("stg_hr", "view", code=changes.get("hr", "select * from hr")),
        model("dim_staff", "table", ["stg_hr"]),
        *changes.get("extra", []),
        macros=changes.get("macros", ()),
    )


def changes_between(before, after, before_vars=None, after_vars=None):
    return history_changes(after, fingerprints(after, after_vars), fingerprints(before, before_vars))


def test_a_changed_seed_or_model_upstream_of_an_incremental_model_is_named():
    found = changes_between(kpi_project(), kpi_project(seed="v2", int="select count(*) * 2"))
    assert found.changed == [f"model.{P}.int_observations", f"seed.{P}.kpi_catalogue"]
    assert found.describe() == "model int_observations, seed kpi_catalogue"


def test_the_incremental_model_itself_and_a_view_feeding_it_are_changes():
    assert changes_between(kpi_project(), kpi_project(fct="select 2")).changed == [f"model.{P}.fct_kpi"]
    assert changes_between(kpi_project(), kpi_project(stg="select 3")).changed == [f"model.{P}.stg_incidents"]


def test_what_every_build_recomputes_whole_is_no_change_to_history():
    # A table read from the incremental model, and a view feeding only a table: rebuilt every run.
    assert not changes_between(kpi_project(), kpi_project(rpt="select sum(2)", hr="select 1 from hr"))


def test_a_description_is_not_a_definition_but_a_column_type_is():
    described = {"kpi_id": {"data_type": "varchar", "description": "another wording"}}
    assert not changes_between(kpi_project(), kpi_project(columns=described))
    typed = {"kpi_id": {"data_type": "integer", "description": "the KPI"}}
    assert changes_between(kpi_project(), kpi_project(columns=typed)).changed == [f"model.{P}.fct_kpi"]


def test_a_new_test_on_an_incremental_model_is_a_change_a_test_reading_every_row_is_not():
    on_incremental = generic_test("not_null_fct_kpi_id", "fct_kpi")
    on_table = generic_test("not_null_rpt_totals_id", "rpt_totals")
    singular = singular_test("assert_totals_positive", "fct_kpi")
    after = kpi_project(extra=[on_incremental, on_table, singular])
    assert changes_between(kpi_project(), after).changed == [f"test.{P}.not_null_fct_kpi_id"]
    # A generic test's arguments are its definition (it has no checksum).
    moved = kpi_project(extra=[generic_test("not_null_fct_kpi_id", "fct_kpi", column="other"), on_table, singular])
    assert changes_between(after, moved).describe() == "test not_null_fct_kpi_id"


def test_removed_definitions_are_no_change():
    before = kpi_project(extra=[generic_test("not_null_fct_kpi_id", "fct_kpi")])
    assert not changes_between(before, kpi_project())


def test_macros_reach_history_through_dbt_dependencies_their_names_in_code_and_other_macros():
    uses_rag = "select {{ rag_status('v') }} from obs"  # dbt may not list a call in a select list
    macros_v1 = (
        macro("rag_status", calls=[f"macro.{P}.band"]),
        macro("band"),
        macro("label_staff"),
        macro("get_custom_strategy_sql"),  # called by dbt itself (no node names it)
    )
    before = kpi_project(
        fct=uses_rag,
        extra=[model("dim_staff", "table", ["stg_hr"], code="select {{ label_staff() }}")],
        macros=macros_v1,
    )

    def changed(name):
        edited = tuple(
            {uid: body | {"macro_sql": "changed"}} if body["name"] == name else {uid: body}
            for part in macros_v1
            for uid, body in part.items()
        )
        after = kpi_project(
            fct=uses_rag,
            extra=[model("dim_staff", "table", ["stg_hr"], code="select {{ label_staff() }}")],
            macros=edited,
        )
        return changes_between(before, after).changed

    assert changed("rag_status") == [f"macro.{P}.rag_status"]
    assert changed("band") == [f"macro.{P}.band"]  # through rag_status
    assert changed("get_custom_strategy_sql") == [f"macro.{P}.get_custom_strategy_sql"]
    assert changed("label_staff") == []  # only a table with no incremental descendant calls it


def test_changed_vars_are_a_change_and_unit_tests_are_not():
    unit = {
        f"unit_test.{P}.fct_kpi.sums": {
            "resource_type": "unit_test",
            "package_name": P,
            "checksum": "a",
            "model": "fct_kpi",
            "depends_on": {"nodes": [f"model.{P}.fct_kpi"], "macros": []},
        }
    }
    unit_changed = {key: value | {"checksum": "b"} for key, value in unit.items()}
    before, after = kpi_project(), kpi_project()
    before["unit_tests"], after["unit_tests"] = unit, unit_changed
    assert fingerprints(before) != fingerprints(after)  # recorded, but no reason to rebuild
    assert not changes_between(before, after)
    found = changes_between(kpi_project(), kpi_project(), {"threshold": 1}, {"threshold": 2})
    assert found.changed == [VARS_ID]
    assert found.describe() == "dbt_project.yml vars"


def test_describe_names_five_then_says_there_are_more():
    many = kpi_project(extra=[generic_test(f"t{i}", "fct_kpi") for i in range(7)])
    found = changes_between(kpi_project(), many)
    assert len(found.changed) == 7
    assert found.describe() == "test t0, test t1, test t2, test t3, test t4, ..."


# The warehouse's record ------------------------------------------------------------------------


def build(con, invocation, success=True, definitions=None, at=None):
    record_dbt_invocation(
        con,
        run_id="r",
        invocation_id=invocation,
        as_of=dt.date(2026, 11, 1),
        months_from=None,
        full_refresh=False,
        success=success,
    )
    if at is not None:
        con.execute("update audit.dbt_invocations set finished_at = ? where invocation_id = ?", [at, invocation])
    if definitions is not None:
        record_dbt_definitions(con, invocation, definitions)


def test_the_last_successful_builds_record_is_read_back(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        assert last_build_definitions(con) is None  # no build yet
        build(con, "old", definitions=None, at=dt.datetime(2026, 1, 1))
        assert last_build_definitions(con) is None  # a build from before the record existed
        build(con, "a", definitions={"model.gt.x": "1", "seed.gt.y": "2"}, at=dt.datetime(2026, 2, 1))
        build(con, "failed", success=False, definitions=None, at=dt.datetime(2026, 3, 1))
        build(con, "some models only", definitions=None, at=dt.datetime(2026, 3, 2))
        assert last_build_definitions(con) == {"model.gt.x": "1", "seed.gt.y": "2"}
        many = {f"model.gt.m{i}": str(i) for i in range(600)}
        build(con, "b", definitions=many, at=dt.datetime(2026, 4, 1))
        assert last_build_definitions(con) == many


# The check a close runs before dbt starts ------------------------------------------------------


class Log:
    def __init__(self):
        self.warnings: list[str] = []

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def check(now, recorded):
    log = Log()
    full_refresh, checked = dbt_module.definitions_check(log, now, fingerprints(recorded) if recorded else None)
    assert checked == fingerprints(now)
    return full_refresh, log.warnings


def test_a_close_rebuilds_every_month_after_a_kpi_change_and_says_so_in_one_line():
    full_refresh, warnings = check(kpi_project(int="select count(*) * 2"), kpi_project())
    assert full_refresh
    assert warnings == [
        "dbt: 1 definition changed since the last build (model int_observations): "
        "rebuilding every month (--full-refresh)"
    ]


def test_a_close_after_a_change_history_does_not_see_stays_incremental():
    assert check(kpi_project(rpt="select 0"), kpi_project()) == (False, [])


def test_a_warehouse_with_no_record_is_rebuilt_once_saying_why():
    full_refresh, warnings = check(kpi_project(), None)
    assert full_refresh
    assert warnings == [
        "dbt: no record of the definitions the last build used (a warehouse built before builds "
        "recorded them): rebuilding every month once (--full-refresh)"
    ]


# The manifest the check reads is the project as it is now ---------------------------------------


def test_a_manifest_older_than_a_project_file_is_stale(tmp_path):
    (tmp_path / "dbt_project.yml").write_text("name: gt\nmodel-paths: ['models']\nseed-paths: ['../seeds']\n")
    (tmp_path / "models" / "kpi").mkdir(parents=True)
    sql = tmp_path / "models" / "kpi" / "a.sql"
    sql.write_text("select 1")
    seeds = tmp_path.parent / "seeds"
    seeds.mkdir(exist_ok=True)
    (seeds / "kpi_catalogue.csv").write_text("kpi_code\nA\n")
    manifest_path = tmp_path / "target" / "manifest.json"
    manifest_path.parent.mkdir()
    manifest_path.write_text("{}")
    later = manifest_path.stat().st_mtime_ns + 1_000_000_000
    os.utime(manifest_path, ns=(later, later))
    assert not dbt_module.manifest_is_stale(manifest_path, tmp_path)
    os.utime(sql, ns=(later + 1, later + 1))
    assert dbt_module.manifest_is_stale(manifest_path, tmp_path)
    os.utime(sql, ns=(later - 1, later - 1))
    os.utime(seeds / "kpi_catalogue.csv", ns=(later + 1, later + 1))
    assert dbt_module.manifest_is_stale(manifest_path, tmp_path)


@pytest.mark.parametrize(
    "env, expected", [({}, "dbt_project"), ({"GT_DBT_PROJECT_DIR": "/tmp/copy/dbt_project"}, "/tmp/copy/dbt_project")]
)
def test_the_dbt_project_is_the_checkouts_unless_a_copy_is_named(env, expected):
    from orchestration.settings import REPO_ROOT, dbt_project_dir

    found = dbt_project_dir(env)
    assert found == (Path(expected) if env else REPO_ROOT / expected)
