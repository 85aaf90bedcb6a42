"""Quarterly review: performance against target, five-year trends, owner commentary and actions,
best practice, the service against its comparators, the Annual Plan highlight report and the
deep-dive action log. Figures come from marts.rpt_kpi_quarterly and the planning marts.
"""

from functools import partial

import auth
import board_pack
import commentary_store as store
import formatting as fmt
import plotly.express as px
import plotly.graph_objects as go
import projection_view
import streamlit as st
import ui
from data_access import annual_plan, quarterly, reference
from data_access import funnel as funnel_access
from funnel_chart import kpi_funnel_chart

ui.page_header(
    "Quarterly review", "In depth: performance against target, analysis, action plans, best practice and benchmarks."
)

left, right = st.columns(2)
service = ui.select_service(left)
year, quarter = ui.select_quarter(service, right)
ui.sync_url(service=service, quarter=f"{year}|{quarter}")

kpis = quarterly.quarterly_kpis(service, year, quarter)
months = reference.quarter_months(year, quarter)
if kpis.empty:
    st.info("No KPI values for this quarter.")
    st.stop()
comments = store.latest_per_kpi(service, service, months[0], months[-1])
kpis = kpis.merge(
    comments[["kpi_code", "period_month", "author", "commentary", "action", "action_owner", "action_due_date"]].rename(
        columns={"period_month": "commentary_month"}
    ),
    on="kpi_code",
    how="left",
)

st.download_button(
    "Board pack (HTML)",
    auth.audited_export(
        partial(board_pack.quarterly_pack, service, year, quarter),
        f"quarterly_board_pack_{service}_{year}_{quarter}",
        "html",
    ),
    file_name=f"quarterly_board_pack_{service}_{year}_{quarter}.html",
    mime="text/html",
    on_click="ignore",
    icon=":material/description:",
    help="A self-contained HTML report of this review that prints cleanly.",
)
if not kpis.is_complete_quarter.all():
    st.warning(f"{year} {quarter} is still in progress: figures cover the months published so far.")

tabs = st.tabs(
    [
        "Performance",
        "Five-year trends",
        "Commentary and actions",
        "Best practice",
        "Benchmarks",
        "Annual Plan",
        "Deep-dive actions",
        "Fair comparisons",
    ]
)

# ---- performance against target -------------------------------------------------------------
with tabs[0]:
    ui.rag_summary(kpis)

    table = fmt.add_display_columns(
        kpis,
        {
            "Value": "value",
            "Target": "target",
            "Variance": "variance",
            "YTD": "value_ytd",
            "Prior YTD": "value_prior_ytd",
            "Same quarter last year": "value_1y_ago",
        },
    )
    columns = [
        "kpi_name",
        "Value",
        "Target",
        "RAG",
        "Variance",
        "Same quarter last year",
        "Direction",
        "YTD",
        "Prior YTD",
        "owner_role",
        "commentary",
    ]
    config = {
        "kpi_name": st.column_config.TextColumn("KPI", pinned=True, width="large"),
        "owner_role": "Owner",
        "commentary": st.column_config.TextColumn("Commentary", width="large"),
        "YTD": st.column_config.TextColumn("YTD", help="Financial year to date (April onwards)."),
        "Prior YTD": st.column_config.TextColumn("Prior YTD", help="The same months of the previous year."),
    }
    for (priority_id, priority_name), group in table.groupby(["priority_id", "priority_name"]):
        st.markdown(f"**{priority_id}. {priority_name}**")
        st.dataframe(
            ui.styled(group[columns]),
            hide_index=True,
            width="stretch",
            column_config=config,
            height=ui.full_height(len(group)),
            key=f"quarterly_priority_{priority_id}",
        )
    ui.download_table(
        kpis[
            [
                "priority_id",
                "priority_name",
                "kpi_code",
                "kpi_name",
                "financial_year",
                "financial_quarter",
                "count_months",
                "is_complete_quarter",
                "unit",
                "polarity",
                "numerator",
                "denominator",
                "value",
                "target",
                "rag_status",
                "variance",
                "value_ytd",
                "value_prior_ytd",
                "value_1y_ago",
                "value_2y_ago",
                "value_3y_ago",
                "value_4y_ago",
                "direction_of_travel",
                "owner_role",
                "commentary",
                "action",
                "action_owner",
                "action_due_date",
            ]
        ],
        f"quarterly_review_{service}_{year}_{quarter}",
        key="quarterly_all",
    )
    ui.kpi_definitions(kpis, key="quarterly")

    # Year-end projection (issue 21): where each KPI with an annual target will end the year.
    st.markdown("**Year-end projection** (as at the quarter's last published month)")
    st.caption(projection_view.CAPTION)
    projection = projection_view.projection_rows(kpis)
    if projection.empty:
        st.info("No KPI with an annual target has a projection for this quarter.")
    else:
        st.dataframe(
            projection_view.styled(projection),
            hide_index=True,
            width="stretch",
            height=ui.full_height(len(projection)),
            column_config={"KPI": st.column_config.TextColumn("KPI", pinned=True, width="large")},
            key="quarterly_projection",
        )

# ---- five-year trends -----------------------------------------------------------------------
with tabs[1]:
    five = quarterly.quarterly_five_year(service, year, quarter)
    start = int(year[:4])
    five["year"] = five.years_ago.map(lambda n: f"{start - n}-{(start - n + 1) % 100:02d}")
    wide = five.pivot_table(index="kpi_code", columns="year", values="value", aggfunc="first")
    years = sorted(wide.columns)
    trend = kpis[["kpi_code", "kpi_name", "decimals", "unit", "polarity", "direction_of_travel"]].merge(
        wide.reset_index(), on="kpi_code", how="left"
    )
    shown = trend.copy()
    for y in years:
        shown[f"{quarter} {y}"] = [
            fmt.fmt_value(v, d, u) for v, d, u in zip(trend[y], trend.decimals, trend.unit, strict=True)
        ]
    shown["Trend"] = trend[years].apply(lambda r: fmt.sparkline_values(list(r)), axis=1)
    shown["Direction"] = trend.direction_of_travel.map(fmt.direction_label)
    st.caption(f"{quarter} of each of the last five financial years (from the mart's value_Ny_ago columns).")
    st.dataframe(
        shown[["kpi_name", *[f"{quarter} {y}" for y in years], "Trend", "Direction"]],
        hide_index=True,
        width="stretch",
        height=ui.full_height(len(shown)),
        column_config={
            "kpi_name": st.column_config.TextColumn("KPI", pinned=True),
            "Trend": st.column_config.LineChartColumn("Five years", width="small"),
        },
    )
    ui.download_table(trend.drop(columns=["decimals"]), f"five_year_trend_{service}_{year}_{quarter}", key="five_year")

    kpi_code = ui.select_kpi(kpis[["kpi_code", "kpi_name"]], "KPI history", state_key="quarterly_kpi")
    history = quarterly.quarterly_history(service, kpi_code)
    if not history.empty:
        fig = go.Figure()
        fig.add_bar(
            x=history.financial_quarter_label,
            y=history.value,
            name="Value",
            marker_color=[fmt.RAG_COLOURS.get(r, "#607d8b") for r in history.rag_status],
        )
        fig.add_scatter(
            x=history.financial_quarter_label,
            y=history.target,
            mode="lines+markers",
            name="Target",
            line={"dash": "dash", "color": "#333"},
        )
        fig.update_layout(
            height=340,
            margin={"l": 10, "r": 10, "t": 30, "b": 10},
            legend={"orientation": "h"},
            title=kpis.set_index("kpi_code").loc[kpi_code, "kpi_name"],
        )
        st.plotly_chart(fig, width="stretch")

# ---- commentary and action plans ------------------------------------------------------------
with tabs[2]:
    st.markdown("**Owner commentary on service-level KPIs this quarter** (latest entry per KPI)")
    with_comments = kpis[kpis.commentary.notna()]
    if with_comments.empty:
        st.caption("No commentary has been written for this quarter's service-level KPIs.")
    else:
        ui.show_table(
            with_comments[
                [
                    "kpi_name",
                    "rag_status",
                    "commentary_month",
                    "author",
                    "commentary",
                    "action",
                    "action_owner",
                    "action_due_date",
                ]
            ],
            f"quarterly_commentary_{service}_{year}_{quarter}",
            key="quarterly_commentary",
        )
    off_without = kpis[kpis.rag_status.isin(fmt.OFF_TARGET) & kpis.commentary.isna()]
    if not off_without.empty:
        st.warning("Off target with no owner commentary: " + ", ".join(off_without.kpi_name))
    st.markdown("**All commentary across the service's units this quarter**")
    all_units = store.latest(service, None, None, months[0], months[-1])
    if all_units.empty:
        st.caption("None.")
    else:
        ui.show_table(all_units, f"commentary_all_units_{service}_{year}_{quarter}", key="quarterly_commentary_units")
    st.markdown("**Annual Plan activities off track or at risk** (the action plans)")
    plan = annual_plan.plan_activities(service, year, quarter)
    at_risk = plan[plan.status.isin(["off_track", "at_risk"])]
    if at_risk.empty:
        st.caption("None this quarter.")
    else:
        ui.show_table(
            at_risk[["activity_id", "title", "priority_name", "owner_role", "status", "due_date", "commentary"]],
            f"plan_at_risk_{service}_{year}_{quarter}",
            key="plan_at_risk",
        )

# ---- best practice --------------------------------------------------------------------------
with tabs[3]:
    best = quarterly.best_practice(service, year, quarter)
    if best.empty:
        st.caption("No station-level values for this quarter.")
    else:
        st.caption(
            "The three best stations per KPI (in the direction of its polarity) and how far they are from the "
            "service as a whole. Small stations can top a rate on small numbers: read with the counts. Small-count "
            "KPIs (deaths, injuries) are left out: SPC, not ranking, judges them."
        )
        shown = fmt.add_display_columns(
            best, {"Station value": "value", "Service value": "service_value", "Δ Gap to service": "gap_to_service"}
        )
        st.dataframe(
            ui.styled(
                shown[
                    [
                        "kpi_name",
                        "rank",
                        "org_unit_name",
                        "Station value",
                        "Service value",
                        "Δ Gap to service",
                        "RAG",
                        "numerator",
                        "denominator",
                    ]
                ]
            ),
            hide_index=True,
            width="stretch",
            height=ui.full_height(len(shown)),
            column_config={
                "kpi_name": st.column_config.TextColumn("KPI", pinned=True),
                "org_unit_name": "Station",
                "rank": "Rank",
            },
        )
        ui.download_table(
            best[
                [
                    "kpi_code",
                    "kpi_name",
                    "rank",
                    "org_unit_id",
                    "org_unit_name",
                    "value",
                    "service_value",
                    "gap_to_service",
                    "rag_status",
                    "numerator",
                    "denominator",
                    "polarity",
                ]
            ],
            f"best_practice_{service}_{year}_{quarter}",
            key="best_practice",
        )

# ---- benchmarks -----------------------------------------------------------------------------
with tabs[4]:
    bench = quarterly.benchmarks(service)
    if bench.empty:
        st.caption("No benchmark data for this service.")
    else:
        b1, b2 = st.columns(2)
        fire_types = sorted(bench.fire_type.unique(), key=lambda f: ({"Primary": 0, "Dwellings": 1}.get(f, 2), f))
        fire_type = b1.selectbox("Fire type", fire_types, key="bench_fire_type")
        measures = {
            "total_response_minutes": "Total response time (minutes)",
            "call_handling_minutes": "Call handling",
            "crew_turnout_minutes": "Crew turnout",
            "drive_minutes": "Drive time",
            "count_incidents": "Incidents",
        }
        measure = b2.selectbox("Measure", list(measures), format_func=measures.get, key="bench_measure")
        chosen = bench[bench.fire_type == fire_type].copy()
        chosen["series"] = chosen.comparator_type.str.replace("_", " ") + ": " + chosen.comparator_name
        fig = px.line(
            chosen,
            x="financial_year",
            y=measure,
            color="series",
            markers=True,
            labels={"financial_year": "Financial year", measure: measures[measure], "series": ""},
        )
        fig.update_layout(
            height=380, margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h", "y": -0.25}
        )
        # Financial years ("2019-20") are labels: plotly would otherwise read them as year-month dates.
        fig.update_xaxes(type="category", categoryorder="category ascending")
        st.plotly_chart(fig, width="stretch")
        st.caption(
            "Home Office FIRE1001 (service, family group, rural/urban and metropolitan category, England); "
            "'warehouse' rows are computed from this platform's own incident data."
        )
        ui.show_table(chosen.drop(columns=["series"]), f"benchmarks_{service}_{fire_type}", key="benchmarks")

# ---- annual plan highlight report -----------------------------------------------------------
with tabs[5]:
    plan = annual_plan.plan_activities(service, year, quarter)
    if plan.empty:
        st.caption("No Annual Plan activity status for this quarter.")
    else:
        p1, p2, p3, p4 = st.columns(4)
        p1.metric("Activities", len(plan), border=True)
        p2.metric("On track or complete", int(plan.is_on_track_or_complete.sum()), border=True)
        p3.metric("Overdue", int(plan.is_overdue.sum()), border=True)
        p4.metric("HMICFRS areas for improvement", int(plan.is_hmicfrs_area_for_improvement.sum()), border=True)
        by_status = (
            plan.status.map(fmt.status_label).value_counts().rename_axis("status").reset_index(name="activities")
        )
        fig = px.bar(by_status, x="activities", y="status", orientation="h", text="activities")
        fig.update_layout(height=240, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis_title=None)
        st.plotly_chart(fig, width="stretch")
        columns = [
            "activity_id",
            "title",
            "priority_name",
            "labels",
            "owner_role",
            "status",
            "due_date",
            "is_overdue",
            "commentary",
        ]
        st.markdown("**Overdue**")
        overdue = plan[plan.is_overdue]
        if overdue.empty:
            st.caption("None.")
        else:
            ui.show_table(overdue[columns], f"plan_overdue_{service}_{year}_{quarter}", key="plan_overdue")
        st.markdown("**HMICFRS areas for improvement**")
        hmicfrs = plan[plan.is_hmicfrs_area_for_improvement]
        if hmicfrs.empty:
            st.caption("None.")
        else:
            ui.show_table(hmicfrs[columns], f"plan_hmicfrs_{service}_{year}_{quarter}", key="plan_hmicfrs")
        st.markdown("**All activities**")
        ui.show_table(plan, f"annual_plan_{service}_{year}_{quarter}", key="plan_all")

# ---- deep-dive action log -------------------------------------------------------------------
with tabs[6]:
    actions = annual_plan.deep_dive_actions(service)
    if actions.empty:
        st.caption("No deep-dive actions recorded for this service.")
    else:
        d1, d2 = st.columns(2)
        d1.metric("Open actions", int((~actions.status.isin(["complete", "closed"])).sum()), border=True)
        d2.metric("Overdue", int(actions.is_overdue.sum()), border=True)
        statuses = sorted(actions.status.dropna().unique())
        chosen = st.multiselect(
            "Status", statuses, default=statuses, format_func=fmt.status_label, key="deep_dive_status"
        )
        ui.show_table(actions[actions.status.isin(chosen)], f"deep_dive_actions_{service}", key="deep_dive")

# ---- fair comparisons: funnel plots (issue 21) ----------------------------------------------
with tabs[7]:
    funnel_kpis = funnel_access.funnel_kpis(service, year, quarter)
    if funnel_kpis.empty:
        st.caption("No rate or percentage KPI has unit values to compare for this quarter.")
    else:
        f1, f2 = st.columns(2)
        funnel_kpi = ui.select_kpi(funnel_kpis[["kpi_code", "kpi_name"]], "KPI", f1, state_key="funnel_kpi")
        chosen_kpi = funnel_kpis.set_index("kpi_code").loc[funnel_kpi]
        funnel_level = f2.selectbox(
            "Compare", chosen_kpi.org_levels, format_func=lambda level: f"{level}s", key="funnel_level"
        )
        st.caption(
            f"Each {funnel_level}'s rate over the twelve months {fmt.month_label(chosen_kpi.period_start_month)} to "
            f"{fmt.month_label(chosen_kpi.period_end_month)} against its size, with 95% and 99.8% control limits "
            f"around the rate of all {funnel_level}s together. A unit inside the funnel differs from the rest by no "
            "more than chance would give; outside it, the difference is worth a question. Above or below, not better "
            "or worse: read with the KPI's polarity."
        )
        funnel = funnel_access.kpi_funnel(service, year, quarter, funnel_kpi, funnel_level)
        kpi_funnel_chart(funnel.points, funnel.curves, chosen_kpi, key="quarterly_funnel")
