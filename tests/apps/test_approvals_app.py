"""The app's side of approvals, on a small hand-made serving.duckdb (no pipeline run): what viewers can
read (the latest approved month, its figures as approved), the monthly page's approval section and its
button for the performance team, and the board pack's version line."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import approval_panel
import board_pack
import pandas as pd
import pytest
from approval_fixtures import PERF, SEPT, T0, make_serving, restate
from data_access import approvals, reference, scope
from data_access.connection import query
from data_access.report_sql import monthly_rows
from streamlit.testing.v1 import AppTest

from orchestration.accounts.store import User, list_events
from orchestration.approvals.store import approve, default_path


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("GT_DATA_DIR", str(folder))
    monkeypatch.delenv("GT_AUTH_MODE", raising=False)
    make_serving(folder / "serving.duckdb")
    with scope.acting_as(PERF):  # the data access answers the signed-in person only
        yield folder


def republish_restated(data: Path) -> None:
    restate(data / "serving.duckdb", data / "next.duckdb")
    shutil.move(data / "next.duckdb", data / "serving.duckdb")


def test_viewers_read_the_approved_figures_even_after_a_restatement(data: Path) -> None:
    assert approvals.latest_approved_month("ESX") is None
    assert approvals.month_status("ESX", SEPT) == ("draft", None)
    assert approvals.approved_kpi_monthly("ESX", SEPT).empty

    approve(default_path(), data / "serving.duckdb", "ESX", SEPT, PERF, now=T0)
    republish_restated(data)

    assert approvals.latest_approved_month("ESX") == SEPT
    assert approvals.month_status("ESX", SEPT)[0] == "restated"
    frame = approvals.approved_kpi_monthly("ESX", SEPT)
    assert frame.set_index(["kpi_code", "org_unit_id"]).value.to_dict() == {
        ("F1", "ESX"): 3.0,
        ("F1", "ESX-ESX-GM"): 2.5,
        ("R1", "ESX"): 360.0,
    }
    assert frame.period_month.tolist() == [SEPT] * 3
    changes = approvals.restatement_changes("ESX", SEPT)
    assert changes[["kpi_code", "org_unit_id", "column", "as_approved", "now"]].values.tolist() == [
        ["F1", "ESX", "numerator", "12.0", "14.0"],
        ["F1", "ESX", "value", "3.0", "3.5"],
    ]


def test_board_pack_says_which_approved_version(data: Path) -> None:
    assert "ESX 2026-09: draft, not yet approved by the performance team." in board_pack.approval_note("ESX", SEPT)
    approve(default_path(), data / "serving.duckdb", "ESX", SEPT, PERF, now=T0)
    note = board_pack.approval_note("ESX", SEPT)
    assert "ESX 2026-09: approved version 1, by pat.perf on 2026-10-05 09:00 UTC (fingerprint " in note
    republish_restated(data)
    assert "restated since: these figures differ from the approved ones" in board_pack.approval_note("ESX", SEPT)
    approve(default_path(), data / "serving.duckdb", "ESX", SEPT, PERF, now=T0 + dt.timedelta(days=3))
    assert "approved version 2, by pat.perf on 2026-10-08 09:00 UTC" in board_pack.approval_note("ESX", SEPT)


def _panel(role: str) -> AppTest:
    def script(role: str) -> None:
        import datetime as dt

        import approval_panel
        import auth
        import streamlit as st

        from orchestration.accounts.store import User

        st.session_state[auth.SESSION_KEY] = auth.signed_in_session(User(f"a.{role}", role, "ESX"))
        approval_panel.show("ESX", dt.date(2026, 9, 1))

    return AppTest.from_function(script, args=(role,), default_timeout=30)


def test_performance_team_approves_from_the_monthly_page(data: Path) -> None:
    viewer = _panel("viewer").run()
    assert "draft, not yet approved" in viewer.info[0].value
    assert not viewer.button  # a viewer cannot approve

    page = _panel("performance").run()
    [button] = page.button
    assert button.label == "Approve September 2026 for ESX"
    page = button.click().run()
    assert not page.exception
    assert "approved version 1, by a.performance" in page.success[0].value
    assert not page.button  # nothing left to approve
    accounts = data / "app_store" / "accounts.sqlite"
    assert list_events(accounts, events=("approval",)).user_name.tolist() == ["a.performance"]

    republish_restated(data)
    page = _panel("performance").run()
    assert "restated since" in page.warning[0].value
    assert page.dataframe[0].value["column"].tolist() == ["numerator", "value"]
    assert page.button[0].label == "Approve September 2026 for ESX again (version 2)"
    assert list_events(accounts, events=("restatement",)).detail.tolist() == [
        "ESX 2026-09 version 1: 2 changes; approve again"
    ]


def test_approval_line_for_each_state() -> None:
    assert approval_panel.approval_line("ESX", SEPT, "draft", None) == (
        "ESX 2026-09: draft, not yet approved by the performance team."
    )


VIEWER = User("vic.viewer", "viewer", "ESX")


def test_a_viewer_reads_only_approved_months_as_approved(data: Path) -> None:
    """Every report query names its rows through report_sql.monthly_rows: for a viewer those are the
    approved figures (the latest version of each approved month), never the published draft."""

    def f1() -> pd.DataFrame:  # the report rows the acting person reads
        return query(
            f"select org_unit_id, value, rag_status from ({monthly_rows('kpi_code = $k')}) order by 1", {"k": "F1"}
        )

    with scope.acting_as(VIEWER):
        assert f1().empty  # nothing approved yet: a viewer sees no figure
        assert reference.months("ESX") == [] and reference.default_month("ESX") is None
    approve(default_path(), data / "serving.duckdb", "ESX", SEPT, PERF, now=T0)
    republish_restated(data)  # the published F1 for ESX is now 3.5, not the approved 3.0
    with scope.acting_as(VIEWER):
        seen = f1()
        assert reference.months("ESX") == [SEPT] and reference.default_month("ESX") == SEPT
        with pytest.raises(scope.AccessDenied, match="drafts until the performance team approves them again"):
            approvals.restatement_changes("ESX", SEPT)
    assert seen.values.tolist() == [["ESX", 3.0, "green"], ["ESX-ESX-GM", 2.5, "green"]]
    assert f1().value.tolist() == [3.5, 2.5, 1.0]  # the performance team: the draft
    assert "these are the approved figures; later changes await" in board_pack_line(VIEWER)


def board_pack_line(user: User) -> str:
    with scope.acting_as(user):
        return board_pack.approval_note("ESX", SEPT)
