"""Owner commentary: the append-only SQLite store, the pipeline's reader, and the round trip through
the app (written on the commentary page, shown at once in the monthly and quarterly reports)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import commentary_store as store
import pandas as pd
import pytest

from orchestration.ingestion.app_store import COMMENTARY_COLUMNS, commentary_path, read_commentary


def add(path, **overrides) -> int:
    values = {
        "service_id": "ESX",
        "kpi_code": "PRI_FIRES_10K",
        "org_unit_id": "ESX",
        "period_month": dt.date(2026, 9, 1),
        "author": "A. Owner",
        "commentary": "First view.",
        "path": path,
    }
    return store.add_commentary(**(values | overrides))


# ---- the store --------------------------------------------------------------------------------


def test_store_and_pipeline_reader_agree_on_columns():
    assert store.COLUMNS == COMMENTARY_COLUMNS


def test_missing_store_reads_as_empty_frames(tmp_path):
    path = tmp_path / "app_store" / "commentary.sqlite"
    assert list(store.history(path=path).columns) == store.COLUMNS
    assert store.latest(path=path).empty
    df = read_commentary(path)
    assert list(df.columns) == COMMENTARY_COLUMNS and df.empty
    assert not path.exists()  # reading never creates the file


def test_store_is_append_only_and_reports_the_latest_entry(tmp_path):
    path = tmp_path / "commentary.sqlite"
    first = add(path, now=dt.datetime(2026, 10, 5, 9, tzinfo=dt.UTC))
    second = add(
        path,
        commentary="Second view.",
        action="Campaign",
        action_owner="GM Prevention",
        action_due_date=dt.date(2026, 12, 31),
        now=dt.datetime(2026, 10, 6, 9, tzinfo=dt.UTC),
    )
    add(path, kpi_code="HFSV_DONE", commentary="Other KPI.")
    assert second > first

    latest = store.latest("ESX", "PRI_FIRES_10K", "ESX", dt.date(2026, 9, 1), dt.date(2026, 9, 1), path=path)
    assert latest.commentary.tolist() == ["Second view."]
    assert latest.action_due_date.iloc[0] == dt.date(2026, 12, 31)
    assert str(latest.created_at.dt.tz) == "UTC"
    assert store.history("ESX", "PRI_FIRES_10K", path=path).commentary.tolist() == ["Second view.", "First view."]

    with sqlite3.connect(path) as con, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("update commentary set commentary = 'rewritten'")
    with sqlite3.connect(path) as con, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("delete from commentary")

    rows = read_commentary(path)
    assert len(rows) == 3 and rows.commentary_id.tolist() == sorted(rows.commentary_id.tolist())
    assert rows.created_at.str.endswith("+00:00").all()
    assert rows.period_month.tolist() == ["2026-09-01"] * 3


def test_store_refuses_commentary_without_author_or_text(tmp_path):
    path = tmp_path / "commentary.sqlite"
    with pytest.raises(store.CommentaryError):
        add(path, author="  ")
    with pytest.raises(store.CommentaryError):
        add(path, commentary="")
    assert read_commentary(path).empty


def test_latest_per_kpi_over_a_quarter_takes_the_latest_month(tmp_path):
    path = tmp_path / "commentary.sqlite"
    add(path, period_month=dt.date(2026, 7, 1), commentary="July.")
    add(path, period_month=dt.date(2026, 9, 1), commentary="September.")
    add(path, period_month=dt.date(2026, 8, 1), commentary="August, written last.")
    df = store.latest_per_kpi("ESX", "ESX", dt.date(2026, 7, 1), dt.date(2026, 9, 1), path=path)
    assert df.commentary.tolist() == ["September."]


# ---- round trip through the app -----------------------------------------------------------------


# Writing is for the performance team or the KPI's owner; the author is whoever is signed in.
PERFORMANCE = ("pat.performance", "performance", "ESX")


def write_through_page(at, text: str, action: str) -> None:
    # No typed author: the entry is written as the signed-in person.
    assert [t.label for t in at.text_input] == ["Action owner"]
    at.text_area(key="commentary_text").input(text)
    at.text_area(key="commentary_action").input(action)
    next(b for b in at.button if b.label == "Save commentary").click().run()
    assert not at.exception, at.exception


def test_commentary_round_trip_through_the_pages(app, data_dir, mart):
    at = app("commentary", user=PERFORMANCE)
    assert not at.exception
    service = at.selectbox(key="w_service").value
    # The last month of the latest complete quarter, so the quarterly review shows it too.
    quarter = mart(
        """
        select financial_year, financial_quarter, max(quarter_start_month) as start from marts.rpt_kpi_quarterly
        where service_id = ? and org_level = 'service' group by 1, 2 having bool_and(is_complete_quarter)
        order by 1 desc, 2 desc limit 1
        """,
        [service],
    ).iloc[0]
    month = (
        mart(
            "select max(month_start_date) as m from marts.dim_date where financial_year = ? and financial_quarter = ?",
            [quarter.financial_year, quarter.financial_quarter],
        )
        .m.iloc[0]
        .date()
    )
    at.selectbox(key="w_month").select(month.isoformat()).run()
    assert not at.exception

    off_target = mart(
        """
        select distinct r.kpi_code, k.kpi_name from marts.rpt_kpi_monthly as r join marts.dim_kpi as k using (kpi_code)
        where r.org_unit_id = ? and r.period_month = ? and r.rag_status in ('red', 'amber')
        """,
        [service, month],
    )
    options = at.selectbox(key="w_commentary_kpi").options  # shown as "name (CODE)"
    assert sorted(o.rsplit("(", 1)[1].rstrip(")") for o in options) == sorted(off_target.kpi_code)
    kpi_code = off_target.kpi_code.iloc[0]
    kpi_name = off_target.kpi_name.iloc[0]
    at.selectbox(key="w_commentary_kpi").select(kpi_code).run()

    write_through_page(at, "Rise driven by cooking fires in two wards.", "Targeted Safe and Well campaign.")
    assert any("Saved as entry" in s.value for s in at.success)
    write_through_page(at, "Second look: the rise is within SPC limits.", "Keep the campaign running.")

    # Append-only: both entries are in the file, the latest is what reports show.
    rows = read_commentary(commentary_path(data_dir / "app_store"))
    assert len(rows) == 2
    assert rows.kpi_code.tolist() == [kpi_code, kpi_code]
    assert rows.org_unit_id.tolist() == [service, service]
    assert rows.period_month.tolist() == [month.isoformat()] * 2
    assert rows.author.tolist() == ["pat.performance"] * 2
    history = next(f.value for f in at.dataframe if "commentary_id" in f.value.columns)
    assert len(history) >= 2

    # Shown at once in the monthly snapshot (same service, month and unit carry over).
    at.switch_page("app_pages/monthly_snapshot.py").run()
    assert not at.exception
    assert at.selectbox(key="w_month").value == month.isoformat()
    shown = " ".join(i.value for i in at.info)
    assert "Second look: the rise is within SPC limits." in shown
    assert "Keep the campaign running." in shown
    assert "Rise driven by cooking fires" not in shown
    table = pd.concat([f.value for f in at.dataframe if "commentary" in f.value.columns])
    assert table.set_index("kpi_name").at[kpi_name, "commentary"] == "Second look: the rise is within SPC limits."

    # ... and in the quarterly review.
    at.switch_page("app_pages/quarterly_review.py").run()
    assert not at.exception
    assert at.selectbox(key="w_quarter").value == f"{quarter.financial_year}|{quarter.financial_quarter}"
    quarterly = pd.concat(
        [f.value for f in at.dataframe if "commentary" in f.value.columns and "kpi_name" in f.value.columns]
    )
    assert "Second look: the rise is within SPC limits." in quarterly.commentary.tolist()


def test_commentary_page_rejects_an_entry_without_text(app, data_dir):
    at = app("commentary", user=PERFORMANCE)
    at.text_area(key="commentary_action").input("An action but no commentary.")
    next(b for b in at.button if b.label == "Save commentary").click().run()
    assert any("Not saved: commentary is required" in e.value for e in at.error)
    assert read_commentary(commentary_path(data_dir / "app_store")).empty


def test_write_commentary_button_opens_the_commentary_page_on_that_kpi(app):
    at = app()
    button = next(b for b in at.button if b.label == "Write commentary")
    kpi_code = button.key.removeprefix("write_")
    button.click().run()
    assert not at.exception
    assert at.title[0].value == "Owner commentary"
    assert at.selectbox(key="w_commentary_kpi").value == kpi_code
