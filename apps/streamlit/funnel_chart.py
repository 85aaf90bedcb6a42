"""The funnel plot: a reusable chart of units' rates against their denominators with the control limits
around the comparison level's rate, and under it the units outside the limits, named.

Use it with the two frames ``data_access.funnel.kpi_funnel`` returns::

    funnel = funnel_access.kpi_funnel(service, year, quarter, kpi_code, "ward")
    funnel_chart(funnel.points, funnel.curves, title="Primary fires per 10,000", key="ward_funnel")

``points``: one row per unit with org_unit_name, numerator, denominator, value, expected_numerator and
funnel_position (a page may filter them, e.g. to one district's wards: the limits stay the level's).
``curves``: denominator, service_value and the four limits (lower_limit_998, lower_limit_95,
upper_limit_95, upper_limit_998). The limits and positions are dbt's (marts.rpt_kpi_funnel*); this
module only draws them.
"""

from __future__ import annotations

import formatting as fmt
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

POSITION_COLOURS = {
    "above 99.8%": "#b71c1c",
    "above 95%": "#ef6c00",
    "within": "#607d8b",
    "below 95%": "#0277bd",
    "below 99.8%": "#1a237e",
}
LIMITS = [
    ("upper_limit_998", "99.8% limits", {"color": "#333", "dash": "dash"}),
    ("lower_limit_998", None, {"color": "#333", "dash": "dash"}),
    ("upper_limit_95", "95% limits", {"color": "#777", "dash": "dot"}),
    ("lower_limit_95", None, {"color": "#777", "dash": "dot"}),
]


def outliers(points: pd.DataFrame) -> pd.DataFrame:
    """The units outside the 95% limits, furthest out first (99.8% before 95%, then by distance from
    the expected numerator)."""
    out = points[points.funnel_position.notna() & points.funnel_position.ne("within")].copy()
    out["_rank"] = out.funnel_position.str.contains("99.8").map({True: 0, False: 1})
    out["_distance"] = (out.numerator - out.expected_numerator).abs() / out.expected_numerator.clip(lower=1e-9)
    return out.sort_values(["_rank", "_distance"], ascending=[True, False]).drop(columns=["_rank", "_distance"])


def figure(points: pd.DataFrame, curves: pd.DataFrame, *, y_title: str = "Rate", x_title: str = "Denominator"):
    """The plotly figure: the four limit curves, the level's rate, and a point per unit coloured by position."""
    fig = go.Figure()
    for column, name, line in LIMITS:
        fig.add_scatter(
            x=curves.denominator, y=curves[column], mode="lines", name=name or column, line=line,
            showlegend=name is not None, legendgroup=line["dash"], hoverinfo="skip",
        )  # fmt: skip
    if not curves.empty:
        fig.add_scatter(
            x=curves.denominator, y=curves.service_value, mode="lines", name="Level rate", line={"color": "#2e7d32"}
        )
    for position, colour in POSITION_COLOURS.items():
        chosen = points[points.funnel_position == position]
        if chosen.empty:
            continue
        fig.add_scatter(
            x=chosen.denominator, y=chosen.value, mode="markers", name=position,
            marker={"color": colour, "size": 9, "line": {"width": 1, "color": "white"}},
            text=chosen.org_unit_name,
            customdata=chosen[["numerator", "expected_numerator"]],
            hovertemplate="<b>%{text}</b><br>rate %{y:.2f}<br>denominator %{x:,.0f}<br>"
            "numerator %{customdata[0]:,.0f} (expected %{customdata[1]:,.1f})<extra>%{fullData.name}</extra>",
        )  # fmt: skip
    fig.update_layout(
        height=420, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": -0.2},
        xaxis_title=x_title, yaxis_title=y_title,
    )  # fmt: skip
    return fig


def funnel_chart(
    points: pd.DataFrame,
    curves: pd.DataFrame,
    *,
    title: str = "",
    key: str,
    decimals: int = 2,
    unit: str = "rate",
    x_title: str = "Denominator",
) -> pd.DataFrame:
    """Draw the funnel and, under it, the units outside the 95% limits; returns those units.
    ``key`` keeps the widgets of two funnels on one page apart."""
    if points.empty:
        st.caption("No unit has a value to compare for this KPI and level.")
        return points
    fig = figure(points, curves, y_title=title or "Rate", x_title=x_title)
    st.plotly_chart(fig, width="stretch", key=f"{key}_chart")
    out = outliers(points)
    if out.empty:
        st.caption(f"All {len(points)} units are within the 95% limits: their differences are what chance gives.")
        return out
    st.markdown(f"**Outside the limits** ({len(out)} of {len(points)} units)")
    shown = pd.DataFrame({
        "Unit": out.org_unit_name.fillna(out.org_unit_id),
        "Position": out.funnel_position,
        "Rate": [fmt.fmt_value(v, decimals, unit) for v in out.value],
        "Level rate": [fmt.fmt_value(v, decimals, unit) for v in out.service_value],
        "Numerator": out.numerator,
        "Expected": out.expected_numerator.round(1),
        "Denominator": out.denominator.round(1),
    })  # fmt: skip
    st.dataframe(shown, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(shown)), key=f"{key}_outliers")
    return out


def kpi_funnel_chart(points: pd.DataFrame, curves: pd.DataFrame, kpi, *, key: str) -> pd.DataFrame:
    """``funnel_chart`` titled and scaled for one KPI: ``kpi`` is its row of ``data_access.funnel.funnel_kpis``
    (kpi_name, decimals, unit, denominator_definition)."""
    return funnel_chart(
        points,
        curves,
        title=kpi.kpi_name,
        key=key,
        decimals=int(kpi.decimals),
        unit=kpi.unit,
        x_title=kpi.denominator_definition or "Denominator",
    )
