"""The funnel plot in the quarterly review (issue 21, fair comparisons): the page draws dbt's funnel and names
exactly the units dbt put outside the limits; the data access keeps to scope; the chart component draws the
four limit curves, the level's rate and the units from the frames it is given."""

from __future__ import annotations

import pandas as pd
import pytest


def _default_quarter(at) -> tuple[str, str, str]:
    service = at.selectbox(key="w_service").value
    year, quarter = at.selectbox(key="w_quarter").value.split("|")
    return service, year, quarter


def test_quarterly_review_shows_the_funnel_and_names_the_units_outside_it(app, mart):
    at = app("quarterly_review")
    assert not at.exception
    assert [t.label for t in at.tabs][-1] == "Fair comparisons"
    service, year, quarter = _default_quarter(at)
    outside = mart(
        """
        select kpi_code, org_unit_name, funnel_position from marts.rpt_kpi_funnel
        where service_id = ? and financial_year = ? and financial_quarter = ? and org_level = 'station'
          and kpi_code = 'AFA_1K_NONDOM' and funnel_position <> 'within'
        """,
        [service, year, quarter],
    )
    assert not outside.empty, "the demo data should put some station outside the AFA funnel"

    at.selectbox(key="w_funnel_kpi").set_value("AFA_1K_NONDOM").run()
    assert not at.exception
    assert at.selectbox(key="funnel_level").value == "station"
    named = next(f.value for f in at.dataframe if {"Unit", "Position"} <= set(f.value.columns))
    assert sorted(zip(named.Unit, named.Position, strict=True)) == sorted(
        zip(outside.org_unit_name, outside.funnel_position, strict=True)
    )
    assert any("Outside the limits" in m.value for m in at.markdown)
    charts = at.get("plotly_chart")
    funnel = next(c for c in charts if '"99.8% limits"' in c.proto.spec)
    assert '"Level rate"' in funnel.proto.spec


def test_the_funnel_compares_other_levels_and_says_when_all_are_within(app, mart):
    at = app("quarterly_review")
    service, year, quarter = _default_quarter(at)
    at.selectbox(key="w_funnel_kpi").set_value("ADF_INJ_100K").run()
    at.selectbox(key="funnel_level").set_value("group").run()
    assert not at.exception
    groups = mart(
        """
        select count(*) as n, count(*) filter (where funnel_position <> 'within') as outside
        from marts.rpt_kpi_funnel
        where service_id = ? and financial_year = ? and financial_quarter = ? and org_level = 'group'
          and kpi_code = 'ADF_INJ_100K'
        """,
        [service, year, quarter],
    ).iloc[0]
    if groups.outside == 0:
        assert any(f"All {groups.n} units are within the 95% limits" in c.value for c in at.caption)
    else:
        assert any("Outside the limits" in m.value for m in at.markdown)

    # A level the next KPI is not compared at falls back to that KPI's first level.
    at.selectbox(key="w_funnel_kpi").set_value("SICK_SHIFTS_FTE").run()
    at.selectbox(key="funnel_level").set_value("watch").run()
    at.selectbox(key="w_funnel_kpi").set_value("PRI_FIRES_10K").run()
    assert not at.exception
    assert at.selectbox(key="funnel_level").value == "station"


def test_funnel_data_access_reads_dbt_limits_and_keeps_to_the_service(mart):
    from data_access import funnel as funnel_access
    from data_access import scope

    from orchestration.accounts.store import User

    kpis = funnel_access.funnel_kpis("ESX", "2025-26", "Q4")
    assert {"PRI_FIRES_10K", "RESP_STD_MET_PCT"} <= set(kpis.kpi_code)
    assert "INC_TOTAL" not in set(kpis.kpi_code)  # a count: no funnel
    assert kpis.set_index("kpi_code").loc["PRI_FIRES_10K", "org_levels"][0] == "station"

    funnel = funnel_access.kpi_funnel("ESX", "2025-26", "Q4", "PRI_FIRES_10K", "station")
    expected = mart(
        "select org_unit_id from marts.rpt_kpi_funnel where service_id = 'ESX' and financial_year = '2025-26' "
        "and financial_quarter = 'Q4' and kpi_code = 'PRI_FIRES_10K' and org_level = 'station'"
    )
    assert sorted(funnel.points.org_unit_id) == sorted(expected.org_unit_id)
    assert len(funnel.curves) == 50 and funnel.curves.denominator.is_monotonic_increasing

    with scope.acting_as(User("v", "viewer", "LFB")), pytest.raises(scope.AccessDenied, match="another service"):
        funnel_access.kpi_funnel("ESX", "2025-26", "Q4", "PRI_FIRES_10K", "station")
    with scope.acting_as(User("m", "manager", "ESX-G1")), pytest.raises(scope.AccessDenied, match="service-wide"):
        funnel_access.funnel_kpis("ESX", "2025-26", "Q4")


def test_a_viewer_sees_no_small_workforce_units_in_the_funnel(mart):
    """The disclosure rule of scope.suppress_for_viewer (a workforce count of 1-7 below service level): such a
    unit is not plotted for a viewer, where an analyst sees it."""
    from data_access import funnel as funnel_access
    from data_access import scope

    from orchestration.accounts.store import User
    from orchestration.sharing.disclosure import is_primary

    args = ("ESX", "2025-26", "Q4", "SICK_SHIFTS_FTE", "watch")
    rows = mart(
        "select org_unit_id, numerator, denominator from marts.rpt_kpi_funnel where service_id = ? and "
        "financial_year = ? and financial_quarter = ? and kpi_code = ? and org_level = ?",
        list(args),
    )

    def small(v: float) -> bool:
        return float(v).is_integer() and is_primary(int(v))

    hidden = {r.org_unit_id for r in rows.itertuples() if small(r.numerator) or small(r.denominator)}
    assert hidden, "the demo data should have watches with 1-7 shifts lost"
    assert set(funnel_access.kpi_funnel(*args).points.org_unit_id) == set(rows.org_unit_id)
    with scope.acting_as(User("v", "viewer", "ESX")):
        shown = set(funnel_access.kpi_funnel(*args).points.org_unit_id)
    assert shown == set(rows.org_unit_id) - hidden


def _points() -> pd.DataFrame:
    return pd.DataFrame({
        "org_unit_id": ["a", "b", "c", "d"],
        "org_unit_name": ["Alpha", "Bravo", "Charlie", "Delta"],
        "numerator": [30.0, 91.0, 79.0, 70.0],
        "expected_numerator": [40.0, 80.0, 80.0, 80.0],
        "denominator": [50.0, 100.0, 100.0, 100.0],
        "value": [60.0, 91.0, 79.0, 70.0],
        "service_value": [80.0] * 4,
        "funnel_position": ["below 99.8%", "above 95%", "within", "below 95%"],
    })  # fmt: skip


def test_outliers_are_the_units_outside_furthest_first():
    import funnel_chart

    out = funnel_chart.outliers(_points())
    # Beyond 99.8 % first; then by relative distance from the expected count: Bravo 11 / 80, Delta 10 / 80.
    assert list(out.org_unit_name) == ["Alpha", "Bravo", "Delta"]


def test_the_figure_draws_four_limits_the_level_rate_and_a_trace_per_position():
    import funnel_chart

    curves = pd.DataFrame({
        "denominator": [40.0, 125.0], "service_value": [80.0, 80.0],
        "lower_limit_998": [60.0, 70.0], "lower_limit_95": [67.0, 73.0],
        "upper_limit_95": [92.0, 87.0], "upper_limit_998": [97.0, 90.0],
    })  # fmt: skip
    fig = funnel_chart.figure(_points(), curves, y_title="% met")
    names = [t.name for t in fig.data]
    assert names[:5] == ["99.8% limits", "lower_limit_998", "95% limits", "lower_limit_95", "Level rate"]
    assert names[5:] == ["above 95%", "within", "below 95%", "below 99.8%"]
    assert list(fig.data[5].text) == ["Bravo"] and fig.layout.yaxis.title.text == "% met"
