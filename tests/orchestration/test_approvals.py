"""Approval before publication and restatements shown (issue 20, items 3 and 4), on small hand-made
serving files: approve a month, change a figure in a copy of serving.duckdb, see the change listed with
its old and new values and the delivery behind it, approve again for version 2."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest
from approval_fixtures import PERF, ROWS, SEPT, T0, make_serving, restate

from orchestration import cli
from orchestration.accounts.store import User, add_user, list_events
from orchestration.approvals.restatements import describe_build, find_restatements, month_status, record_restatements
from orchestration.approvals.store import (
    ApprovalError,
    approve,
    approved_rows,
    connect,
    fingerprint,
    latest_approved_month,
    list_approvals,
    month_rows,
    parse_month,
)


@pytest.fixture
def serving(tmp_path: Path) -> Path:
    return make_serving(tmp_path / "serving.duckdb")


def test_approve_keeps_who_when_fingerprint_and_the_rows(tmp_path: Path, serving: Path) -> None:
    store = tmp_path / "approvals.sqlite"
    approval, new = approve(store, serving, "ESX", "2026-09", PERF, now=T0)

    assert new and approval.version == 1 and approval.row_count == 3
    assert (approval.approved_by, approval.approved_at, approval.serving_run_id) == ("pat.perf", T0, "run-1")
    kept = approved_rows(store, approval.approval_id)
    assert [(r["kpi_code"], r["org_unit_id"], r["value"]) for r in kept] == [
        ("F1", "ESX", 3.0),
        ("F1", "ESX-ESX-GM", 2.5),
        ("R1", "ESX", 360.0),
    ]
    assert "_invocation_id" not in kept[0] and kept[0]["period_month"] == "2026-09-01"
    # The kept rows are the approved figures: their fingerprint is the one recorded.
    assert fingerprint(kept) == approval.fingerprint
    assert latest_approved_month("ESX", store) == SEPT
    assert latest_approved_month("LFB", store) is None


def test_fingerprint_is_stable_across_runs_with_unchanged_data(tmp_path: Path, serving: Path) -> None:
    # Another build of the same figures: other invocation id, rows written in the opposite order.
    rebuilt = make_serving(tmp_path / "rebuilt.duckdb", invocation="inv-9", reverse=True)
    first = fingerprint(month_rows(serving, "ESX", SEPT))
    assert first == fingerprint(month_rows(serving, "ESX", SEPT))
    assert first == fingerprint(month_rows(rebuilt, "ESX", SEPT))
    changed = [(k, u, n, d, v + 0.1 if k == "R1" else v, r) for k, u, n, d, v, r in ROWS]
    other = make_serving(tmp_path / "other.duckdb", rows=changed)
    assert fingerprint(month_rows(other, "ESX", SEPT)) != first

    store = tmp_path / "approvals.sqlite"
    approve(store, serving, "ESX", SEPT, PERF, now=T0)
    again, new = approve(store, rebuilt, "ESX", SEPT, PERF, now=T0 + dt.timedelta(days=1))
    assert not new and again.version == 1 and again.approved_at == T0  # nothing new to approve
    assert month_status(store, rebuilt, "ESX", SEPT)[0] == "approved"


def test_restatement_lists_old_and_new_values_and_the_delivery(tmp_path: Path, serving: Path) -> None:
    store = tmp_path / "approvals.sqlite"
    v1, _ = approve(store, serving, "ESX", "2026-09", PERF, now=T0)
    later = restate(serving, tmp_path / "later.duckdb")

    assert month_status(store, serving, "ESX", SEPT) == ("approved", v1)
    assert month_status(store, later, "ESX", SEPT) == ("restated", v1)
    [found] = find_restatements(store, later)
    assert found.approval == v1
    assert [(c.kpi_code, c.org_unit_id, c.period_month, c.column, c.as_approved, c.now) for c in found.changes] == [
        ("F1", "ESX", SEPT, "numerator", 12.0, 14.0),
        ("F1", "ESX", SEPT, "value", 3.0, 3.5),
    ]
    cause = found.changes[0].cause
    assert "monthly close in run run-2 (2026-10-09 06:00 UTC)" in cause
    assert "deliveries for 2026-09 loaded: irs/ESX/incidents_2026-09_r2.csv (batch 7, revision 2)" in cause
    assert "1 deliveries for other months or undated loaded" in cause  # the stations snapshot
    assert "LFB" not in cause and "incidents_2026-09.csv" not in cause  # the earlier build's delivery

    # Noted once, and once in the audit trail of people.
    accounts = tmp_path / "accounts.sqlite"
    assert record_restatements(store, [found], accounts, now=T0) == [found]
    assert record_restatements(store, [found], accounts, now=T0) == []
    events = list_events(accounts, events=("restatement",))
    assert events.detail.tolist() == ["ESX 2026-09 version 1: 2 changes; approve again"]

    # Approving again makes version 2; version 1's figures stay as they were approved.
    v2, new = approve(store, later, "ESX", "2026-09", PERF, now=T0 + dt.timedelta(days=5))
    assert new and v2.version == 2 and v2.fingerprint != v1.fingerprint
    assert month_status(store, later, "ESX", SEPT) == ("approved", v2)
    assert find_restatements(store, later) == []
    assert approved_rows(store, v1.approval_id)[0]["value"] == 3.0
    assert approved_rows(store, v2.approval_id)[0]["value"] == 3.5
    assert [a.version for a in list_approvals(store, "ESX")] == [2, 1]
    assert [a.version for a in list_approvals(store, "ESX", latest_only=True)] == [2]


def test_a_removed_row_and_an_unknown_build_are_named(tmp_path: Path, serving: Path) -> None:
    store = tmp_path / "approvals.sqlite"
    approve(store, serving, "ESX", SEPT, PERF, now=T0)
    later = tmp_path / "later.duckdb"
    shutil.copy2(serving, later)
    with duckdb.connect(str(later)) as con:
        con.execute("delete from marts.rpt_kpi_monthly where kpi_code = 'R1'")
        con.execute(
            "update marts.rpt_kpi_monthly set rag_status = 'red', _invocation_id = 'inv-x' where org_unit_id = 'ESX'"
        )
    [found] = find_restatements(store, later, "ESX")
    assert [(c.kpi_code, c.column, c.as_approved, c.now) for c in found.changes] == [
        ("F1", "rag_status", "green", "red"),
        ("R1", "row", "present", "(no row)"),
    ]
    assert found.changes[0].cause == "dbt build inv-x (not in audit.dbt_invocations)"
    assert found.changes[1].cause == "not known: the row names no dbt build"


def test_approval_refused_with_a_reason(tmp_path: Path, serving: Path) -> None:
    store = tmp_path / "approvals.sqlite"
    with pytest.raises(ApprovalError, match="viv cannot approve: only an active account with role 'performance'"):
        approve(store, serving, "ESX", SEPT, User("viv", "viewer", "ESX"))
    with pytest.raises(ApprovalError, match="disabled"):
        approve(store, serving, "ESX", SEPT, User("old", "performance", "ESX", is_disabled=True))
    with pytest.raises(ApprovalError, match="no figures for ESX in 2026-08 .* nothing to approve"):
        approve(store, serving, "ESX", "2026-08", PERF)
    with pytest.raises(ApprovalError, match="'Sept' is not a month: write it as YYYY-MM"):
        parse_month("Sept")
    with pytest.raises(ApprovalError, match="does not exist yet: run the pipeline first"):
        approve(store, tmp_path / "missing.duckdb", "ESX", SEPT, PERF)
    assert list_approvals(store) == []


def test_approvals_are_append_only(tmp_path: Path, serving: Path) -> None:
    store = tmp_path / "approvals.sqlite"
    approve(store, serving, "ESX", SEPT, PERF, now=T0)
    for sql in (
        "update approvals set approved_by = 'someone else'",
        "delete from approvals",
        "update approved_figures set rows_zlib = x'00'",
        "delete from approved_figures",
    ):
        with pytest.raises(sqlite3.IntegrityError), connect(store) as con:
            con.execute(sql)


def test_cli_approve_list_and_restatements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("GT_DATA_DIR", str(data))
    monkeypatch.delenv("GT_AUTH_MODE", raising=False)
    make_serving(data / "serving.duckdb")
    accounts = data / "app_store" / "accounts.sqlite"
    add_user(accounts, "pat.perf", "performance", "ESX", None)
    add_user(accounts, "viv", "viewer", "ESX", None)

    assert cli.main(["approvals", "list"]) == 0
    assert "every month is a draft" in capsys.readouterr().out
    assert cli.main(["approvals", "approve", "ESX", "2026-09", "--by", "nobody"]) == 2
    assert "nobody has no account" in capsys.readouterr().err
    assert cli.main(["approvals", "approve", "ESX", "2026-09", "--by", "viv"]) == 2
    assert "viv cannot approve" in capsys.readouterr().err
    assert cli.main(["approvals", "approve", "ESX", "2026-09", "--by", "pat.perf"]) == 0
    assert "approved ESX 2026-09: version 1, 3 rows" in capsys.readouterr().out
    assert cli.main(["approvals", "approve", "ESX", "2026-09", "--by", "pat.perf"]) == 0
    assert "already approved with these figures: version 1" in capsys.readouterr().out
    assert list_events(accounts, events=("approval",)).detail.str.startswith("ESX 2026-09 version 1, 3 rows").all()

    restate(data / "serving.duckdb", data / "next.duckdb")
    (data / "next.duckdb").replace(data / "serving.duckdb")
    assert cli.main(["approvals", "list"]) == 0
    assert "version 1   restated (2 changes)" in capsys.readouterr().out
    assert cli.main(["approvals", "restatements", "--service", "ESX"]) == 1
    out = capsys.readouterr().out
    assert "F1 ESX value: as approved 3.0, now 3.5; monthly close in run run-2" in out
    assert "approve again: python -m orchestration.cli approvals approve ESX 2026-09 --by NAME" in out
    assert cli.main(["approvals", "approve", "ESX", "2026-09", "--by", "pat.perf"]) == 0
    assert "version 2" in capsys.readouterr().out
    assert cli.main(["approvals", "restatements"]) == 0
    assert "no restatements" in capsys.readouterr().out


def test_cause_names_accepted_re_deliveries_and_changed_definitions(tmp_path: Path, serving: Path) -> None:
    later = restate(serving, tmp_path / "later.duckdb")
    with duckdb.connect(str(later)) as con:
        con.execute(
            "create table audit.delivery_decisions (file_name varchar, batch_id bigint, decision varchar, "
            "decided_by varchar, reason varchar, decided_at timestamp)"
        )
        con.execute(
            "insert into audit.delivery_decisions values "
            "('irs/ESX/incidents_2026-09_r2.csv', 7, 'accepted', 'dee', 'corrected extract', '2026-10-08 10:00'), "
            "('irs/ESX/incidents_2026-07_r2.csv', 5, 'accepted', 'dee', 'older', '2026-10-01 10:00'), "
            "('irs/ESX/incidents_2026-09_r3.csv', 8, 'dismissed', 'dee', 'duplicate', '2026-10-08 11:00')"
        )
        con.execute(
            "create table audit.dbt_definitions (invocation_id varchar, unique_id varchar, fingerprint varchar)"
        )
        con.execute(
            "insert into audit.dbt_definitions values ('inv-1', 'model.gt.rpt_kpi_monthly', 'a'), "
            "('inv-1', 'model.gt.int_fires', 'b'), ('inv-2', 'model.gt.rpt_kpi_monthly', 'a'), "
            "('inv-2', 'model.gt.int_fires', 'c'), ('inv-2', 'seed.gt.kpi_targets', 'd')"
        )
        cause = describe_build(con, "inv-2", "ESX", SEPT)
    assert "re-deliveries accepted: irs/ESX/incidents_2026-09_r2.csv by dee" in cause
    assert "incidents_2026-07_r2" not in cause and "r3" not in cause  # before the build before; dismissed
    assert cause.endswith("definitions changed: model.gt.int_fires, seed.gt.kpi_targets")


def test_publish_names_the_approved_months_it_restates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.publish_asset import _restatements
    from orchestration.settings import Settings

    monkeypatch.delenv("GT_AUTH_MODE", raising=False)
    settings = Settings.from_env({"GT_DATA_DIR": str(tmp_path / "data")})
    settings.data_dir.mkdir()
    make_serving(settings.serving_path)
    assert _restatements(settings) is None  # nothing approved yet
    approve(settings.app_store_dir / "approvals.sqlite", settings.serving_path, "ESX", SEPT, PERF, now=T0)
    assert _restatements(settings) is None  # as approved

    restate(settings.serving_path, tmp_path / "next.duckdb").replace(settings.serving_path)
    assert _restatements(settings) == (
        "1 approved months restated by this publication: ESX 2026-09 (version 1, 2 changes); the performance team "
        "approves them again (python -m orchestration.cli approvals restatements)"
    )
    events = list_events(settings.app_store_dir / "accounts.sqlite", events=("restatement",))
    assert events.user_name.tolist() == ["pipeline"]

    with connect(settings.app_store_dir / "approvals.sqlite") as con:
        con.execute("drop trigger approvals_no_update")
        con.execute("update approvals set period_month = 'Sept'")  # a damaged file
    assert _restatements(settings) == (
        f"could not compare the approved months with this publication: {settings.app_store_dir / 'approvals.sqlite'}: "
        "approval 1 is damaged: period_month 'Sept' or approved_at '2026-10-05T09:00:00.000000+00:00' is not a date"
    )
