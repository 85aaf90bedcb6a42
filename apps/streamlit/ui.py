"""Streamlit building blocks the pages share: page header, service/period/unit pickers whose choice
survives page switches (session state) and is shareable (URL query parameters), KPI tiles and the
CSV/XLSX download buttons under every table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import auth
import exports
import formatting as fmt
import pandas as pd
import streamlit as st
from data_access import connection, reference, scope

ALL = ""  # "no narrower unit chosen" in the drill-down selectors
PLURAL = {"group": "groups", "station": "stations", "watch": "watches"}
URL_KEYS = ("service", "month", "unit", "quarter", "kpi")


# ---- page scaffolding -----------------------------------------------------------------------


def page_header(title: str, intro: str | None = None) -> None:
    """Title, a one-line purpose and the as-of date; stops the page when nothing is published."""
    st.title(title)
    if not connection.is_published():
        st.warning("Nothing has been published yet. Run `make pipeline` to build and publish the data.")
        st.stop()
    info = connection.publish_info()
    published = info.get("published_at")
    st.caption(
        (f"{intro}  \n" if intro else "")
        + f"Data as of **{info.get('as_of')}** · published "
        + (f"{published:%Y-%m-%d %H:%M} UTC" if published is not None else "—")
    )


def _load_url_state() -> None:
    """On a session's first run, take the selection from the URL (a shared link)."""
    if st.session_state.get("_url_loaded"):
        return
    for key in URL_KEYS:
        if key in st.query_params and key not in st.session_state:
            st.session_state[key] = st.query_params[key]
    st.session_state["_url_loaded"] = True


def sync_url(**values) -> None:
    """Write the page's current selection into the URL so it can be shared or bookmarked."""
    for key, value in values.items():
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != str(value):
            st.query_params[key] = str(value)


def _select(
    label: str,
    options: list,
    state_key: str,
    default,
    format_func: Callable = str,
    container=None,
    help: str | None = None,
    widget_key: str | None = None,
):
    """A selectbox whose value lives in ``st.session_state[state_key]``.

    Widget state is dropped when a page stops rendering the widget, so the selection is kept in a
    plain session key and copied into the widget before each render; the change callback copies
    it back. Pages that share a state key therefore share the selection.
    """
    _load_url_state()
    container = container or st
    widget_key = widget_key or f"w_{state_key}"
    current = st.session_state.get(state_key)
    if current not in options:
        current = default if default in options else options[0]
    st.session_state[state_key] = current
    st.session_state[widget_key] = current

    def changed() -> None:
        st.session_state[state_key] = st.session_state[widget_key]

    container.selectbox(label, options, key=widget_key, format_func=format_func, on_change=changed, help=help)
    return current


def select_service(container=None) -> str:
    services = reference.services()
    names = dict(zip(services.service_id, services.service_name, strict=True))
    ids = list(names)
    if not ids:
        st.warning("The published data holds no service.")
        st.stop()
    return _select("Service", ids, "service", ids[0], lambda s: f"{names.get(s, s)} ({s})", container)


def select_month(service_id: str, container=None) -> dt.date:
    months = [m.isoformat() for m in reference.months(service_id)]
    if not months and scope.reads_approved_only():
        st.info(
            "No month has been approved for this service yet: the reports open once the performance team "
            "approves a month."
        )
        st.stop()
    if not months:
        st.info("No monthly KPI values have been published for this service.")
        st.stop()
    default = reference.default_month(service_id)
    chosen = _select(
        "Month",
        months,
        "month",
        default.isoformat() if default else months[0],
        fmt.month_label,
        container,
        help="Defaults to the latest approved month."
        if scope.reads_approved_only()
        else "Defaults to the latest complete month before the as-of date.",
    )
    return dt.date.fromisoformat(chosen)


def select_quarter(service_id: str, container=None) -> tuple[str, str]:
    quarters = reference.quarters(service_id)
    if quarters.empty and scope.reads_approved_only():
        st.info(
            "No quarter has every month approved yet: the quarterly review opens once the performance team "
            "has approved the quarter's months."
        )
        st.stop()
    if quarters.empty:
        st.info("No quarterly KPI values have been published for this service.")
        st.stop()
    options = [f"{r.financial_year}|{r.financial_quarter}" for r in quarters.itertuples()]
    complete = dict(zip(options, quarters.is_complete_quarter, strict=True))
    default = reference.default_quarter(service_id)

    def label(option: str) -> str:
        year, quarter = option.split("|")
        return f"{year} {quarter}" + ("" if complete.get(option) else " (in progress)")

    chosen = _select(
        "Quarter",
        options,
        "quarter",
        "|".join(default) if default else options[0],
        label,
        container,
        help="Financial year April–March; Q1 is April–June. Defaults to the latest complete quarter.",
    )
    year, quarter = chosen.split("|")
    return year, quarter


def select_kpi(kpis: pd.DataFrame, label: str = "KPI", container=None, state_key: str = "kpi") -> str | None:
    """A KPI picker over the given rows (kpi_code, kpi_name), remembering the last choice."""
    if kpis.empty:
        return None
    kpis = kpis.drop_duplicates("kpi_code")
    names = dict(zip(kpis.kpi_code, kpis.kpi_name, strict=True))
    codes = list(names)
    return _select(label, codes, state_key, codes[0], lambda c: f"{names.get(c, c)} ({c})", container)


def _unit_changed(widget_key: str, parent: str) -> None:
    st.session_state["unit"] = st.session_state[widget_key] or parent


def select_unit(service_id: str, month, container=None) -> str:
    """Cascading selectors service → group → station → watch; returns the chosen org_unit_id.

    The hierarchy is the one valid in ``month``. The choice lives in ``st.session_state['unit']``
    so a click in a drill-down table (which sets it) and these selectors stay in step.
    """
    _load_url_state()
    container = container or st
    units = reference.org_units(service_id, month)
    by_id = units.drop_duplicates("org_unit_id").set_index("org_unit_id")
    unit = st.session_state.get("unit")
    if unit not in by_id.index:
        unit = service_id
    user = auth.current_user()
    if user is not None and user.role == "manager" and user.org_unit_id in by_id.index:
        # A manager starts at its own unit, and is brought back to it from a unit outside its scope.
        readable = scope.readable_units(month, user)
        if readable is not None and unit not in readable:
            unit = user.org_unit_id
    st.session_state["unit"] = unit

    path: list[str] = []  # from the unit up to, not including, the service
    node = unit
    while node in by_id.index and node != service_id:
        path.insert(0, node)
        parent = by_id.at[node, "parent_org_unit_id"]
        node = None if fmt.is_missing(parent) else parent

    columns = container.columns(3)
    parent = service_id
    for depth, column in enumerate(columns):
        children = units[units.parent_org_unit_id == parent]
        if children.empty:
            break
        level = str(children.org_level.iloc[0])
        options = [ALL, *children.org_unit_id.tolist()]
        value = path[depth] if depth < len(path) else ALL
        widget_key = f"w_unit_{depth}"
        st.session_state[widget_key] = value
        all_label = f"(all {PLURAL.get(level, level + 's')})"
        column.selectbox(
            level.title(),
            options,
            key=widget_key,
            format_func=lambda x, all_label=all_label: all_label if x == ALL else by_id.at[x, "org_unit_name"],
            on_change=_unit_changed,
            args=(widget_key, parent),
        )
        if value == ALL:
            break
        parent = value
    return unit


def breadcrumb(org_unit_id: str, month) -> str:
    path = reference.unit_path(org_unit_id, month)
    return " › ".join(f"{r.org_unit_name} ({r.org_level})" for r in path.itertuples())


def drill_to(org_unit_id: str) -> None:
    """Make ``org_unit_id`` the selected unit (the selectors follow on the next run)."""
    st.session_state["unit"] = org_unit_id


# ---- KPI display ----------------------------------------------------------------------------


def kpi_metric(row, container=None, with_chart: bool = True) -> None:
    """One KPI as a tile: value, variance against target coloured by polarity, 13-month trend."""
    container = container or st
    row = dict(row)
    rag = row.get("rag_status")
    label = ("" if fmt.is_missing(rag) else fmt.rag_marker(rag) + " ") + str(row.get("kpi_name"))
    target = row.get("target")
    history = fmt.sparkline_values(row.get("history")) if with_chart else []
    container.metric(
        label,
        fmt.fmt_value(row.get("value"), row.get("decimals"), row.get("unit"), row.get("value_note")),
        delta=fmt.fmt_delta(row.get("variance"), row.get("decimals"), row.get("unit")),
        delta_color=fmt.delta_color(row.get("polarity")),
        delta_description=None
        if fmt.is_missing(target)
        else f"vs target {fmt.fmt_value(target, row.get('decimals'), row.get('unit'))}",
        help=fmt.kpi_help(row),
        border=True,
        chart_data=history if len(history) > 1 else None,
    )


def rag_summary(kpis: pd.DataFrame) -> None:
    """Four tiles: how many KPIs are red, amber, green and without a RAG."""
    counts = kpis.rag_status.value_counts()
    columns = st.columns(4)
    for column, rag in zip(columns[:3], ("red", "amber", "green"), strict=True):
        column.metric(fmt.rag_md(rag), int(counts.get(rag, 0)), border=True)
    columns[3].metric(
        f"{fmt.rag_marker(None)} No RAG",
        int(kpis.rag_status.isna().sum()),
        border=True,
        help="Context measures, and small counts (deaths, injuries) below service level, which SPC judges instead.",
    )


def full_height(rows: int) -> int:
    """A dataframe height that shows every row without an inner scrollbar (report tables are short)."""
    return 38 + 35 * max(rows, 1)


def styled(df: pd.DataFrame):
    """Colour the RAG column's cells (tables cannot render Markdown)."""
    if "RAG" not in df.columns:
        return df
    return df.style.map(lambda v: fmt.RAG_CELL_STYLES.get(v, ""), subset=["RAG"])


def kpi_definitions(kpis: pd.DataFrame, key: str) -> None:
    """An expander listing each KPI's definition, unit, polarity and formula (from dim_kpi)."""
    with st.expander("KPI definitions"):
        table = kpis.drop_duplicates("kpi_code").assign(
            formula=lambda d: [fmt.formula_text(r) for r in d.to_dict("records")],
            polarity_meaning=lambda d: d.polarity.map(fmt.POLARITY_LABELS),
        )[["kpi_code", "kpi_name", "definition", "scope", "unit", "polarity_meaning", "formula", "owner_role"]]
        st.dataframe(table, hide_index=True, width="stretch")
        download_table(table, "kpi_definitions", key=f"{key}_defs")


# ---- exports --------------------------------------------------------------------------------


def download_table(df: pd.DataFrame, name: str, key: str | None = None) -> None:
    """CSV and XLSX download buttons for a table; the files are built only when clicked."""
    key = key or name
    with st.container(horizontal=True, gap="small"):
        st.download_button(
            "CSV",
            auth.audited_export(partial(exports.to_csv_bytes, df), name, "csv"),
            file_name=f"{name}.csv",
            mime="text/csv",
            key=f"dl_csv_{key}",
            on_click="ignore",
            icon=":material/download:",
            type="tertiary",
        )
        st.download_button(
            "XLSX",
            auth.audited_export(partial(exports.to_xlsx_bytes, df, name[:31]), name, "xlsx"),
            file_name=f"{name}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"dl_xlsx_{key}",
            on_click="ignore",
            icon=":material/download:",
            type="tertiary",
        )


def show_table(df: pd.DataFrame, name: str, key: str | None = None, **dataframe_kwargs) -> None:
    """st.dataframe plus its download buttons."""
    dataframe_kwargs.setdefault("hide_index", True)
    dataframe_kwargs.setdefault("width", "stretch")
    st.dataframe(styled(df), **dataframe_kwargs)
    download_table(df, name, key)
