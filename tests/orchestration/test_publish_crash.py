"""Publish killed at each step: the live serving.duckdb is the old file with its old record or the
new file with its new record, never a mix; the warehouse never records a file that is not in place;
and the next publish removes the leftovers, records a live file a crash left unrecorded, and succeeds."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

import orchestration.publish as publish_module
from orchestration.publish import publish, record_live_publication, remove_leftovers
from orchestration.settings import REPO_ROOT
from tests.orchestration.test_publish import (
    AS_OF,
    TABLES,
    assert_serving_equals_warehouse,
    close,
    dbt_build,
    make_warehouse,
)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "warehouse.duckdb")


class Crash(Exception):
    """Stands for the process dying at this instant."""


def crash_on_call(monkeypatch, name: str, call: int = 1, *, after: bool = False, when=lambda **kw: True) -> None:
    """Make ``orchestration.publish.<name>`` die on its ``call``-th matching call (before or after
    doing its work); every other call goes through."""
    real = getattr(publish_module, name)
    seen = []

    def dying(*args, **kwargs):
        if not when(**kwargs):
            return real(*args, **kwargs)
        seen.append(1)
        if len(seen) != call:
            return real(*args, **kwargs)
        if after:
            real(*args, **kwargs)
        raise Crash(name)

    monkeypatch.setattr(publish_module, name, dying)


def half_copy(src, dst):
    """A copy of the current serving file that stops halfway."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: len(data) // 2])
    raise Crash("copyfile")


def live(serving: Path) -> tuple[str, float, int, str]:
    """(run in meta.publish_info, A's yearly total, fct_events rows, last run in the file's own
    audit.publications): run1's file is (run1, 10.5, 4, run1), run2's is (run2, 14.5, 3, run2)."""
    with duckdb.connect(str(serving), read_only=True) as con:
        (run,) = con.execute("select run_id from meta.publish_info").fetchone()
        (total,) = con.execute("select total from marts.rpt_year where id = 'A'").fetchone()
        (rows,) = con.execute("select count(*) from marts.fct_events").fetchone()
        (listed,) = con.execute("select run_id from audit.publications order by published_at desc limit 1").fetchone()
    return run, float(total), int(rows), listed


def recorded(warehouse_path: Path) -> list[str]:
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        return [r for (r,) in con.execute("select run_id from audit.publications order by published_at").fetchall()]


RUN1 = ("run1", 10.5, 4, "run1")
RUN2 = ("run2", 14.5, 3, "run2")


def published_then_rebuilt(warehouse_path: Path, serving: Path) -> None:
    """run1 published; run2's dbt build rewrote October and the yearly report: run2 publishes next."""
    dbt_build(warehouse_path, "run1", "inv1", full_refresh=True, rewrite=False)
    close(warehouse_path, serving, "run1")
    assert live(serving) == RUN1
    dbt_build(warehouse_path, "run2", "inv2")


# (where run2's publish dies, how to make it die there, whose file is then live, leftovers)
STEPS = {
    "mid-copy of a table": (lambda mp: crash_on_call(mp, "_copy", call=2), RUN1, ["serving.duckdb.next"]),
    "mid-copy of the current file": (
        lambda mp: mp.setattr(publish_module.shutil, "copyfile", half_copy),
        RUN1,
        ["serving.duckdb.next"],
    ),
    "after the file's fsync, before the rename": (
        lambda mp: crash_on_call(mp, "_sync_file", after=True),
        RUN1,
        ["serving.duckdb.next"],
    ),
    "after the rename, before the directory fsync": (lambda mp: crash_on_call(mp, "_sync_dir"), RUN2, []),
    "after the directory fsync, before the warehouse record": (
        lambda mp: crash_on_call(mp, "record_publication", when=lambda **kw: kw.get("schema", "audit") == "audit"),
        RUN2,
        [],
    ),
}


@pytest.mark.slow  # builds and publishes warehouses: over 0.7 s of CPU
@pytest.mark.parametrize("step", list(STEPS))
def test_a_publish_killed_at_any_step_leaves_one_whole_file_and_the_next_publish_recovers(
    step, warehouse, tmp_path, monkeypatch
):
    serving = tmp_path / "serving.duckdb"
    published_then_rebuilt(warehouse, serving)
    make_it_die, expected_live, leftovers = STEPS[step]
    with monkeypatch.context() as mp:
        make_it_die(mp)
        with pytest.raises(Crash):
            close(warehouse, serving, "run2")

    # (a) one whole file with its own record; the warehouse names no file that is not in place.
    assert live(serving) == expected_live
    assert recorded(warehouse) == ["run1"]
    left = {p.name for p in tmp_path.glob("serving.duckdb.next*")}
    assert set(leftovers) <= left <= set(leftovers) | {f"{name}.wal" for name in leftovers}

    # (b) the next publish tidies up, records the file the crash left unrecorded, and succeeds.
    dbt_build(warehouse, "run3", "inv3", rewrite=False)
    out = close(warehouse, serving, "run3")
    assert set(leftovers) <= set(out.removed)
    assert out.recorded_late == ("run2" if expected_live == RUN2 else None)
    assert not list(tmp_path.glob("serving.duckdb.next*"))
    assert recorded(warehouse) == (["run1", "run2", "run3"] if expected_live == RUN2 else ["run1", "run3"])
    assert live(serving) == ("run3", 14.5, 3, "run3")
    assert_serving_equals_warehouse(warehouse, serving)
    if out.removed or out.recorded_late:
        assert out.recovery().startswith("after an interrupted publish: ")


@pytest.mark.slow  # builds and publishes warehouses: over 0.7 s of CPU
def test_a_crash_between_rename_and_record_costs_nothing_once_recorded(warehouse, tmp_path, monkeypatch):
    """Once the live file's record is copied into the warehouse (once only), a close builds on top
    of that file as if nothing had happened. (In a pipeline run the mart gate and publish ask what
    they may build on before publish records it, so the first close after such a crash reads and
    publishes everything; the one after it is incremental again.)"""
    serving = tmp_path / "serving.duckdb"
    published_then_rebuilt(warehouse, serving)
    with monkeypatch.context() as mp:
        crash_on_call(mp, "record_publication", when=lambda **kw: kw.get("schema", "audit") == "audit")
        with pytest.raises(Crash):
            close(warehouse, serving, "run2")
    with duckdb.connect(str(warehouse)) as con:
        assert record_live_publication(con, serving) == "run2"
        assert record_live_publication(con, serving) is None  # once only
    dbt_build(warehouse, "run3", "inv3")
    out = close(warehouse, serving, "run3")
    assert out.on_top_of == "run2" and out.how["marts.fct_events"] == "rows replaced"
    assert_serving_equals_warehouse(warehouse, serving)


@pytest.mark.slow  # builds and publishes warehouses: over 0.7 s of CPU
def test_an_older_serving_file_is_not_recorded_again(warehouse, tmp_path):
    """A serving file restored from a backup is older than the last publication: the warehouse's
    history is not rewritten for it, and the next close builds whole."""
    serving = tmp_path / "serving.duckdb"
    dbt_build(warehouse, "run1", "inv1", full_refresh=True, rewrite=False)
    close(warehouse, serving, "run1")
    backup = tmp_path / "backup.duckdb"
    shutil.copyfile(serving, backup)
    dbt_build(warehouse, "run2", "inv2")
    close(warehouse, serving, "run2")
    os.replace(backup, serving)
    dbt_build(warehouse, "run3", "inv3", rewrite=False)
    out = close(warehouse, serving, "run3")
    assert out.recorded_late is None and out.on_top_of is None
    assert recorded(warehouse) == ["run1", "run2", "run3"]
    assert_serving_equals_warehouse(warehouse, serving)


def test_leftovers_are_removed_but_never_the_live_file_nor_a_readers_spill_folder(tmp_path):
    serving = tmp_path / "serving.duckdb"
    serving.write_bytes(b"live")
    for name in ("serving.duckdb.next", "serving.duckdb.next.wal", "serving.duckdb.tmp.wal"):
        (tmp_path / name).write_bytes(b"half")
    spill = tmp_path / "serving.duckdb.tmp"  # DuckDB's temp_directory for a reader of serving.duckdb
    spill.mkdir()
    (spill / "duckdb_temp_block").write_bytes(b"x")
    assert remove_leftovers(serving) == ["serving.duckdb.next", "serving.duckdb.next.wal", "serving.duckdb.tmp.wal"]
    assert serving.read_bytes() == b"live" and (spill / "duckdb_temp_block").exists()
    assert remove_leftovers(serving) == []


def test_a_publish_never_leaves_a_write_ahead_log_beside_the_file_it_renames(warehouse, tmp_path, monkeypatch):
    """The file is complete on its own before the rename: had DuckDB kept part of it in a .wal, the
    rename would publish the file without that part, so publish refuses."""
    serving = tmp_path / "serving.duckdb"
    real = publish_module._sync_file

    def with_a_wal(path: Path) -> None:
        path.with_name(path.name + ".wal").write_bytes(b"unmerged")
        real(path)

    monkeypatch.setattr(publish_module, "_sync_file", with_a_wal)
    with pytest.raises(RuntimeError, match=r"serving.duckdb.next still has a write-ahead log"):
        publish(warehouse, serving, TABLES, run_id="run1", as_of=AS_OF)
    assert not serving.exists() and recorded(warehouse) == []


CHILD = """
import datetime as dt, sys, time
from pathlib import Path
import orchestration.publish as p
warehouse, serving, step, marker = sys.argv[1:]
real = getattr(p, step)
def pause(*args, **kwargs):
    real(*args, **kwargs)
    Path(marker).write_text(step)
    time.sleep(60)
setattr(p, step, pause)
p.publish(Path(warehouse), Path(serving), (("marts", "*"), ("audit", "*")), run_id="run2", as_of=dt.date(2026, 11, 1))
"""


@pytest.mark.slow  # builds and publishes warehouses: over 0.7 s of CPU
@pytest.mark.parametrize(("step", "expected_live"), [("_copy", RUN1), ("_sync_dir", RUN2)])
def test_a_real_sigkill_mid_publish(step, expected_live, warehouse, tmp_path):
    """SIGKILL while the new file is attached and half written (its .wal on disk too), and once it
    is renamed into place but not yet recorded: the next publish recovers from both."""
    serving = tmp_path / "serving.duckdb"
    published_then_rebuilt(warehouse, serving)
    marker = tmp_path / "reached"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(warehouse), str(serving), step, str(marker)], cwd=REPO_ROOT
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert child.poll() is None, f"the publish ended (exit {child.returncode}) before reaching {step}"
            assert time.monotonic() < deadline, f"the publish did not reach {step} in 30 s"
            time.sleep(0.05)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    assert live(serving) == expected_live
    assert recorded(warehouse) == ["run1"]
    dbt_build(warehouse, "run3", "inv3", rewrite=False)
    out = close(warehouse, serving, "run3")
    if expected_live == RUN1:
        assert "serving.duckdb.next" in out.removed and out.recorded_late is None
    else:
        assert out.removed == [] and out.recorded_late == "run2"
    assert not list(tmp_path.glob("serving.duckdb.next*"))
    assert live(serving) == ("run3", 14.5, 3, "run3")
    assert_serving_equals_warehouse(warehouse, serving)


@pytest.mark.slow  # builds and publishes warehouses: over 0.7 s of CPU
def test_the_publish_step_says_in_one_warning_what_it_tidied(settings):
    """Through Dagster: the step's one warning line names the removed leftovers (the command line
    prints a step's warnings on its stage line)."""
    import dagster as dg

    from orchestration.publish_asset import build_publish_asset
    from orchestration.resources import WarehouseResource

    settings.data_dir.mkdir(parents=True)
    make_warehouse(settings.warehouse_path)
    settings.serving_path.with_name("serving.duckdb.next").write_bytes(b"half")
    settings.serving_path.with_name("serving.duckdb.next.wal").write_bytes(b"half")
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [build_publish_asset([])],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        instance=instance,
    )
    assert result.success
    warnings = [e.message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING and e.step_key]
    assert warnings == ["after an interrupted publish: removed serving.duckdb.next, serving.duckdb.next.wal"]
    assert live(settings.serving_path)[0] == result.run_id
