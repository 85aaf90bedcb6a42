"""Every page of the Streamlit app under AppTest: it renders, its widgets work, and the figures it
shows are the marts' figures (compared with direct queries on the serving database)."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pandas as pd
import pytest

PAGES = {
    "monthly_snapshot": "Monthly snapshot",
    "quarterly_review": "Quarterly review",
    "golden_thread": "Golden thread",
    "unit_profile": "Station and watch profile",
    "districts_and_wards": "Districts and wards",
    "map": "Map",
    "commentary": "Owner commentary",
    "data_quality": "Data quality",
    "ingestion": "Data ingestion",
}


def parse_number(text: str) -> float:
    """'83.3%', '9.71 min', '1,221', '-0.04' → float."""
    match = re.search(r"-?[\d,]*\.?\d+", text.replace("−", "-"))
    assert match, f"no number in {text!r}"
    return float(match.group(0).replace(",", ""))


def assert_shows(text: str, value: float, decimals: int) -> None:
    assert abs(parse_number(text) - value) <= 0.5 * 10 ** -int(decimals) + 1e-9, f"{text!r} does not show {value}"


def tiles(at) -> dict[str, str]:
    """Tile label (without its leading coloured RAG marker) → displayed value."""
    return {re.sub(r"^:\w+\[[●○]\]\s*", "", m.label): m.value for m in at.metric}


def monthly_rows(mart, unit: str, month) -> pd.DataFrame:
    return mart(
        """
        select distinct r.kpi_code, r.value, r.target, r.rag_status, r.variance, r.unit, k.decimals, k.kpi_name
        from marts.rpt_kpi_monthly as r join marts.dim_kpi as k using (kpi_code)
        where r.org_unit_id = ? and r.period_month = ?
        """,
        [unit, month],
    )


def default_month(mart, service: str) -> dt.date:
    return (
        mart(
            """
        select max(period_month) as m from marts.rpt_kpi_monthly
        where service_id = ? and org_level = 'service'
          and period_month < date_trunc('month', (select as_of from meta.publish_info))
        """,
            [service],
        )
        .m.iloc[0]
        .date()
    )


def station_with_watches(mart, service: str, month) -> tuple[str, str, str, str]:
    """(group id, station id, watch id, station name) for the first station that has watches."""
    row = mart(
        """
        select g.org_unit_id as group_id, s.org_unit_id as station_id, min(w.org_unit_id) as watch_id,
               s.org_unit_name as station_name
        from marts.dim_org_unit as w
        join marts.dim_org_unit as s on s.org_unit_id = w.parent_org_unit_id
            and s.valid_from <= $m and (s.valid_to is null or s.valid_to >= $m)
        join marts.dim_org_unit as g on g.org_unit_id = s.parent_org_unit_id
            and g.valid_from <= $m and (g.valid_to is null or g.valid_to >= $m)
        where w.service_id = $s and w.org_level = 'watch'
          and w.valid_from <= $m and (w.valid_to is null or w.valid_to >= $m)
        group by all order by station_id limit 1
        """,
        {"s": service, "m": month},
    ).iloc[0]
    return row.group_id, row.station_id, row.watch_id, row.station_name


def check_tiles_against_mart(at, rows: pd.DataFrame) -> int:
    """Every KPI tile on the page shows the mart's value; returns how many were checked."""
    shown = tiles(at)
    checked = 0
    for row in rows.itertuples():
        if row.kpi_name in shown and not pd.isna(row.value):
            assert_shows(shown[row.kpi_name], row.value, row.decimals)
            checked += 1
    return checked


def table_values(at, column: str = "Value") -> dict[str, str]:
    """KPI name → displayed text from every st.dataframe that has KPI and ``column`` columns."""
    out = {}
    for frame in at.dataframe:
        df = frame.value
        if "kpi_name" in df.columns and column in df.columns:
            out.update(dict(zip(df.kpi_name, df[column], strict=True)))
    return out


# ---- every page -----------------------------------------------------------------------------


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_for_both_services(app, page, optional_real_data_dir):
    at = app(page)
    assert not at.exception, at.exception
    assert at.title[0].value == PAGES[page]
    if page != "commentary":  # its tables (and their downloads) appear once commentary exists
        labels = [b.proto.label for b in at.get("download_button")]
        assert {"CSV", "XLSX"} <= set(labels), labels
    # The second service, LFB, is the real London data: on a machine without ../shared/data/real
    # only the simulated service exists (in CI, REQUIRE_REAL_DATA=1 makes its absence an error).
    if page != "ingestion" and optional_real_data_dir is not None:
        at.selectbox(key="w_service").select("LFB").run()
        assert not at.exception, at.exception
        assert at.selectbox(key="w_service").value == "LFB"


def test_sidebar_shows_as_of_and_publish_time(app, mart):
    at = app()
    info = mart("select as_of, published_at from meta.publish_info").iloc[0]
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert str(info.as_of.date()) in sidebar
    assert f"{info.published_at:%Y-%m-%d %H:%M}" in sidebar


# ---- monthly snapshot -----------------------------------------------------------------------


def test_monthly_snapshot_defaults_to_latest_complete_month_and_shows_mart_figures(app, mart):
    at = app()
    assert not at.exception
    service = at.selectbox(key="w_service").value
    month = default_month(mart, service)
    assert at.selectbox(key="w_month").value == month.isoformat()

    rows = monthly_rows(mart, service, month)
    counts = rows.rag_status.value_counts()
    shown = tiles(at)
    assert shown["Red"] == str(counts.get("red", 0))
    assert shown["Amber"] == str(counts.get("amber", 0))
    assert shown["Green"] == str(counts.get("green", 0))
    assert shown["No RAG"] == str(int(rows.rag_status.isna().sum()))

    # Exceptions first: one tile per off-target KPI, showing the mart's value.
    off = rows[rows.rag_status.isin(["red", "amber"])]
    assert check_tiles_against_mart(at, off) == len(off) > 0
    # Every KPI appears in the priority tables with the mart's value.
    values = table_values(at)
    for row in rows.dropna(subset=["value"]).itertuples():
        assert_shows(values[row.kpi_name], row.value, row.decimals)
    assert at.query_params["unit"] == [service] or at.query_params["unit"] == service


def test_monthly_snapshot_shows_not_recorded_instead_of_zero(app, mart, data_dir):
    """A KPI the service does not record (value null, value_note 'not recorded') reads
    'not recorded' in the priority tables, never 0 % or a bare dash."""
    service = app().selectbox(key="w_service").value
    month = default_month(mart, service)
    with duckdb.connect(str(data_dir / "serving.duckdb")) as con:
        con.execute(
            "update marts.rpt_kpi_monthly set numerator = null, denominator = null, value = null, "
            "value_note = 'not recorded' where kpi_code = 'ADF_CONFINED_PCT' and org_unit_id = ? and period_month = ?",
            [service, month],
        )
    at = app()
    assert not at.exception
    name = mart("select kpi_name from marts.dim_kpi where kpi_code = 'ADF_CONFINED_PCT'").kpi_name.iloc[0]
    assert table_values(at)[name] == "not recorded"


def test_monthly_snapshot_month_selector_changes_the_figures(app, mart):
    at = app()
    service = at.selectbox(key="w_service").value
    earlier = dt.date(default_month(mart, service).year - 1, 6, 1)
    at.selectbox(key="w_month").select(earlier.isoformat()).run()
    assert not at.exception
    rows = monthly_rows(mart, service, earlier)
    values = table_values(at)
    for row in rows.dropna(subset=["value"]).itertuples():
        assert_shows(values[row.kpi_name], row.value, row.decimals)


def test_monthly_snapshot_drills_down_to_group_station_and_watch(app, mart):
    at = app()
    service = at.selectbox(key="w_service").value
    month = default_month(mart, service)
    units = mart(
        """
        select org_unit_id, parent_org_unit_id, org_level, org_unit_name from marts.dim_org_unit
        where service_id = ? and valid_from <= ? and (valid_to is null or valid_to >= ?)
        """,
        [service, month, month],
    )
    # A station with watches, through its group.
    watch = units[units.org_level == "watch"].sort_values("org_unit_id").iloc[0]
    station = units[units.org_unit_id == watch.parent_org_unit_id].iloc[0]
    group = units[units.org_unit_id == station.parent_org_unit_id].iloc[0]

    at.selectbox(key="w_unit_0").select(group.org_unit_id).run()
    at.selectbox(key="w_unit_1").select(station.org_unit_id).run()
    assert not at.exception
    assert any(station.org_unit_name in m.value and group.org_unit_name in m.value for m in at.markdown)
    assert check_tiles_against_mart(at, monthly_rows(mart, station.org_unit_id, month)) > 0
    values = table_values(at)
    for row in monthly_rows(mart, station.org_unit_id, month).dropna(subset=["value"]).itertuples():
        assert_shows(values[row.kpi_name], row.value, row.decimals)

    at.selectbox(key="w_unit_2").select(watch.org_unit_id).run()
    assert not at.exception
    values = table_values(at)
    watch_rows = monthly_rows(mart, watch.org_unit_id, month).dropna(subset=["value"])
    assert len(watch_rows)
    for row in watch_rows.itertuples():
        assert_shows(values[row.kpi_name], row.value, row.decimals)

    # Back up a level with the button, and the choice survives a page switch.
    next(b for b in at.button if b.label.startswith("Up to")).click().run()
    assert at.selectbox(key="w_unit_1").value == station.org_unit_id
    at.switch_page("app_pages/unit_profile.py").run()
    assert not at.exception
    assert at.selectbox(key="w_unit_1").value == station.org_unit_id


def test_monthly_snapshot_drill_table_lists_the_children_of_the_unit(app, mart):
    at = app()
    service = at.selectbox(key="w_service").value
    month = default_month(mart, service)
    at.selectbox(key="w_kpi").select("PRI_FIRES_10K").run()
    drill = next(f.value for f in at.dataframe if {"org_unit_name", "org_level", "Value"} <= set(f.value.columns))
    groups = mart(
        """
        select distinct r.org_unit_name, r.value from marts.rpt_kpi_monthly as r
        where r.kpi_code = 'PRI_FIRES_10K' and r.period_month = ? and r.org_level = 'group' and r.service_id = ?
        """,
        [month, service],
    )
    assert sorted(drill.org_unit_name) == sorted(groups.org_unit_name)
    shown = dict(zip(drill.org_unit_name, drill.Value, strict=True))
    for row in groups.itertuples():
        assert_shows(shown[row.org_unit_name], row.value, 2)


# ---- quarterly review -----------------------------------------------------------------------


def test_quarterly_review_shows_mart_figures_and_every_section(app, mart):
    at = app("quarterly_review")
    assert not at.exception
    service = at.selectbox(key="w_service").value
    year, quarter = at.selectbox(key="w_quarter").value.split("|")
    latest = mart(
        """
        select financial_year, financial_quarter from marts.rpt_kpi_quarterly
        where service_id = ? and org_level = 'service'
        group by all having bool_and(is_complete_quarter)
        order by 1 desc, 2 desc limit 1
        """,
        [service],
    ).iloc[0]
    assert (year, quarter) == (latest.financial_year, latest.financial_quarter)

    rows = mart(
        """
        select distinct r.kpi_code, r.value, r.rag_status, r.value_ytd, r.value_prior_ytd, k.decimals, k.kpi_name
        from marts.rpt_kpi_quarterly as r join marts.dim_kpi as k using (kpi_code)
        where r.org_unit_id = ? and r.financial_year = ? and r.financial_quarter = ?
        """,
        [service, year, quarter],
    )
    values, ytd = table_values(at), table_values(at, "YTD")
    for row in rows.dropna(subset=["value"]).itertuples():
        assert_shows(values[row.kpi_name], row.value, row.decimals)
        assert_shows(ytd[row.kpi_name], row.value_ytd, row.decimals)

    tab_labels = [t.label for t in at.tabs]
    assert tab_labels == [
        "Performance",
        "Five-year trends",
        "Commentary and actions",
        "Best practice",
        "Benchmarks",
        "Annual Plan",
        "Deep-dive actions",
        "Fair comparisons",
    ]

    # Best practice: the top station for an 'up' KPI is the mart's highest station value.
    best = next(f.value for f in at.dataframe if "Station value" in f.value.columns)
    top = mart(
        """
        select r.org_unit_id, max(u.org_unit_name) as name, max(r.value) as value from marts.rpt_kpi_quarterly as r
        join marts.dim_org_unit as u using (org_unit_id)
        where r.kpi_code = 'HFSV_HIGH_RISK_PCT' and r.org_level = 'station' and r.service_id = ?
          and r.financial_year = ? and r.financial_quarter = ? and r.value is not null
        group by 1 order by 3 desc, 2 limit 1
        """,
        [service, year, quarter],
    ).iloc[0]
    first = best[
        (best.kpi_name == rows.set_index("kpi_code").kpi_name["HFSV_HIGH_RISK_PCT"]) & (best["rank"] == 1)
    ].iloc[0]
    assert first.org_unit_name == top["name"]
    assert_shows(first["Station value"], top.value, 1)

    # Annual Plan highlight report and deep-dive log counts equal the marts.
    plan = mart(
        """
        select count(*) as n, count(*) filter (where is_overdue) as overdue,
               count(*) filter (where is_hmicfrs_area_for_improvement) as hmicfrs
        from marts.fct_plan_activity_status where service_id = ? and financial_year = ? and financial_quarter = ?
        """,
        [service, year, quarter],
    ).iloc[0]
    shown = tiles(at)
    assert shown["Activities"] == str(plan.n)
    assert shown["HMICFRS areas for improvement"] == str(plan.hmicfrs)
    actions = mart(
        "select count(*) filter (where is_overdue) as n from marts.fct_deep_dive_actions where service_id = ?",
        [service],
    ).iloc[0]
    # Two "Overdue" tiles: the Annual Plan's, then the deep-dive log's.
    assert [m.value for m in at.metric if m.label == "Overdue"] == [str(plan.overdue), str(actions.n)]

    # Benchmarks: a chart and the benchmark table for the default fire type.
    assert at.selectbox(key="bench_fire_type").value == "Primary"
    assert len(at.get("plotly_chart")) >= 2
    at.selectbox(key="bench_fire_type").select("Dwellings").run()
    assert not at.exception


def test_quarterly_review_five_year_table_uses_the_value_n_years_ago_columns(app, mart):
    at = app("quarterly_review")
    service = at.selectbox(key="w_service").value
    year, quarter = at.selectbox(key="w_quarter").value.split("|")
    row = mart(
        """
        select value, value_1y_ago from marts.rpt_kpi_quarterly
        where kpi_code = 'INC_TOTAL' and org_unit_id = ? and financial_year = ? and financial_quarter = ?
        """,
        [service, year, quarter],
    ).iloc[0]
    five = next(f.value for f in at.dataframe if any(c.startswith(f"{quarter} ") for c in f.value.columns))
    inc = five[five.kpi_name == "Incidents attended"].iloc[0]
    start = int(year[:4])
    assert_shows(inc[f"{quarter} {year}"], row.value, 0)
    if not pd.isna(row.value_1y_ago):
        assert_shows(inc[f"{quarter} {start - 1}-{start % 100:02d}"], row.value_1y_ago, 0)


# ---- golden thread --------------------------------------------------------------------------


def test_golden_thread_lists_priorities_and_highlights_gaps(app, mart):
    at = app("golden_thread")
    assert not at.exception
    service = at.selectbox(key="w_service").value
    thread = mart("select * from marts.rpt_golden_thread where service_id = ?", [service])
    shown = tiles(at)
    assert shown["Gaps"] == str(int(thread.is_gap.sum()))
    assert shown["KPIs"] == str(int((thread.element_type == "kpi").sum()))
    assert [e.label for e in at.expander][: thread.priority_id.nunique()]
    if thread.is_gap.any():
        assert any("Gaps in the thread" in e.value for e in at.error)


# ---- station and watch profile --------------------------------------------------------------


def test_unit_profile_compares_a_station_with_its_group_and_the_service(app, mart):
    at = app("unit_profile")
    service = at.selectbox(key="w_service").value
    month = default_month(mart, service)
    group, station, _, _ = station_with_watches(mart, service, month)
    at.selectbox(key="w_unit_0").select(group).run()
    at.selectbox(key="w_unit_1").select(station).run()
    assert not at.exception

    rows = mart(
        """
        select distinct r.kpi_code, k.kpi_name, k.decimals, r.value, p.value as parent_value, s.value as service_value
        from marts.rpt_kpi_monthly as r
        join marts.dim_kpi as k using (kpi_code)
        join marts.dim_org_unit as u on u.org_unit_id = r.org_unit_id
            and u.valid_from <= r.period_month and (u.valid_to is null or u.valid_to >= r.period_month)
        left join marts.rpt_kpi_monthly as p on p.kpi_code = r.kpi_code and p.period_month = r.period_month
            and p.org_unit_id = u.parent_org_unit_id
        left join marts.rpt_kpi_monthly as s on s.kpi_code = r.kpi_code and s.period_month = r.period_month
            and s.org_unit_id = r.service_id
        where r.org_unit_id = ? and r.period_month = ?
        """,
        [station, month],
    )
    table = next(f.value for f in at.dataframe if "Parent" in f.value.columns).set_index("kpi_name")
    for row in rows.dropna(subset=["value", "parent_value", "service_value"]).itertuples():
        assert_shows(table.at[row.kpi_name, "Value"], row.value, row.decimals)
        assert_shows(table.at[row.kpi_name, "Parent"], row.parent_value, row.decimals)
        assert_shows(table.at[row.kpi_name, "Service"], row.service_value, row.decimals)
    assert check_tiles_against_mart(at, monthly_rows(mart, station, month)) > 0


# ---- data quality ---------------------------------------------------------------------------


def test_data_quality_reconciliation_equals_the_ingestion_log(app, mart):
    at = app("data_quality")
    assert not at.exception
    log = mart(
        "select count(*) as files, sum(rows_received) as received, sum(rows_quarantined) as q from audit.ingestion_log"
    ).iloc[0]
    shown = tiles(at)
    assert parse_number(shown["Files"]) == log.files
    assert parse_number(shown["Rows received"]) == log.received
    assert parse_number(shown["Rows quarantined"]) == log.q


def test_data_quality_drills_from_a_kpi_value_to_its_records(app, mart):
    at = app("data_quality")
    service = at.selectbox(key="w_service").value
    month = default_month(mart, service)
    group, station, _, _ = station_with_watches(mart, service, month)
    at.selectbox(key="w_unit_0").select(group).run()
    at.selectbox(key="w_unit_1").select(station).run()

    at.selectbox(key="w_dq_kpi").select("INC_TOTAL").run()
    assert not at.exception
    assert any("matches the published figures" in s.value for s in at.success)
    incidents = mart(
        "select count(*) as n from marts.fct_incidents where station_sk = ? and period_month = ?", [station, month]
    ).n.iloc[0]
    published = mart(
        "select max(numerator) as n from marts.rpt_kpi_monthly "
        "where kpi_code = 'INC_TOTAL' and org_unit_id = ? and period_month = ?",
        [station, month],
    ).n.iloc[0]
    assert incidents == published
    records = next(f.value for f in at.dataframe if "incident_id" in f.value.columns)
    assert len(records) == incidents

    # Response KPIs list the records excluded by the Home Office rules, with the reason.
    at.selectbox(key="w_unit_0").select("").run()
    at.selectbox(key="w_dq_kpi").select("RESP_STD_MET_PCT").run()
    assert not at.exception
    excluded = mart(
        """
        select count(*) as n from marts.fct_incident_response
        where service_id = ? and period_month = ? and is_potentially_life_threatening and not is_valid_response
        """,
        [service, month],
    ).n.iloc[0]
    if excluded:
        table = next(
            f.value
            for f in at.dataframe
            if "exclusion_reason" in f.value.columns
            and "incident_sk" in f.value.columns
            and f.value.exclusion_reason.notna().all()
        )
        assert len(table) == excluded


def test_data_quality_shows_dq_marks_and_results(app, data_dir, mart):
    service = "ESX"
    month = default_month(mart, service)
    con = duckdb.connect(str(data_dir / "serving.duckdb"))
    try:
        con.execute(
            "update marts.rpt_kpi_monthly set dq_status = 'warn', dq_note = 'irs: 3 quarantined' "
            "where kpi_code = 'PRI_FIRES_10K' and org_unit_id = ? and period_month = ?",
            [service, month],
        )
    finally:
        con.close()
    at = app("data_quality")
    assert not at.exception
    assert any("PRI_FIRES_10K" in f.value.get("kpi_code", pd.Series(dtype=str)).tolist() for f in at.dataframe)
    assert any({"target", "latest_success", "runs"} <= set(f.value.columns) for f in at.dataframe)
    assert any("dq_accuracy_pct" in f.value.columns for f in at.dataframe)
    runs = mart("select count(distinct (target, suite)) n from audit.dq_runs").n.iloc[0]
    shown = next(f.value for f in at.dataframe if "latest_success" in f.value.columns)
    assert len(shown) == runs
    at.selectbox(key="w_dq_kpi").select("PRI_FIRES_10K").run()
    assert any("irs: 3 quarantined" in w.value for w in at.warning)


def test_data_quality_without_dq_tables_says_so(app, data_dir):
    con = duckdb.connect(str(data_dir / "serving.duckdb"))
    try:
        for table in ("dq_runs", "dq_results", "dq_record_flags"):
            con.execute(f"drop table if exists audit.{table}")
        con.execute("alter table marts.rpt_kpi_monthly drop column dq_status")
        con.execute("alter table marts.rpt_kpi_monthly drop column dq_note")
    finally:
        con.close()
    at = app("data_quality")
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "does not carry data-quality marks" in captions
    assert "does not include audit.dq_runs" in captions


def test_a_shared_link_opens_on_the_same_unit_and_month(data_dir, mart):
    from app_fixtures import APP_SCRIPT, TEST_USER, signed_in
    from streamlit.testing.v1 import AppTest

    month = default_month(mart, "ESX")
    earlier = dt.date(month.year - 1, month.month, 1).isoformat()
    group, station, _, _ = station_with_watches(mart, "ESX", dt.date.fromisoformat(earlier))
    at = signed_in(AppTest.from_file(str(APP_SCRIPT), default_timeout=120), *TEST_USER)
    at.query_params.update({"service": "ESX", "month": earlier, "unit": station})
    at.run()
    assert not at.exception
    assert at.selectbox(key="w_month").value == earlier
    assert at.selectbox(key="w_unit_0").value == group
    assert at.selectbox(key="w_unit_1").value == station
