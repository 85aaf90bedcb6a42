"""The year-end projection (issue 21) where managers read it: its formatting (projection_view), the
quarterly review's table and the quarterly board pack, each against the mart's figures, and its
figures hidden from a viewer where the workforce disclosure rule hides the KPI's counts."""

from __future__ import annotations

import math

import board_pack
import formatting as fmt
import pandas as pd
import projection_view
from data_access import scope

from orchestration.accounts.store import User


def kpi_row(**overrides) -> dict:
    row = {
        "kpi_code": "RTC_ATTENDED",
        "kpi_name": "Road traffic collisions attended",
        "decimals": 0,
        "unit": "count",
        "annual_target": 64.0,
        "projected_value": 48.0,
        "projected_lower_80": 46.70022,
        "projected_upper_80": 49.29978,
        "projection_outlook": "likely met",
        "target_profile_source": "unit pattern, last three years",
    }
    return row | overrides


def test_projection_rows_format_each_kpi_with_its_decimals_and_unit():
    kpis = pd.DataFrame([
        kpi_row(),
        kpi_row(
            kpi_code="RESP_STD_MET_PCT", kpi_name="Within the standard", decimals=1, unit="percent",
            annual_target=90.0, projected_value=92.0, projected_lower_80=91.469367, projected_upper_80=92.530633,
            projection_outlook="at risk", target_profile_source=None,
        ),
        # Polarity none: a projection, no outlook; too little history: no interval.
        kpi_row(kpi_code="INC_TOTAL", kpi_name="Incidents", projection_outlook=None,
                projected_lower_80=math.nan, projected_upper_80=math.nan, target_profile_source="flat"),
        # No annual target: not projected, not shown.
        kpi_row(kpi_code="SAFEGUARD_REFS", kpi_name="Referrals", annual_target=None, projected_value=None),
    ])  # fmt: skip
    rows = projection_view.projection_rows(kpis)
    assert list(rows.KPI) == ["Road traffic collisions attended", "Within the standard", "Incidents"]
    first, second, third = rows.to_dict("records")
    assert first["Annual target"] == "64"
    assert first["Projected year end"] == "48"
    assert first["80 % interval"] == "47 to 49"
    assert first["Outlook"] == "Likely met"
    assert first["Target profile"] == "unit pattern, last three years"
    assert second["Projected year end"] == fmt.fmt_value(92.0, 1, "percent")
    low, high = fmt.fmt_value(91.469367, 1, "percent"), fmt.fmt_value(92.530633, 1, "percent")
    assert second["80 % interval"] == f"{low} to {high}"
    assert second["Outlook"] == "At risk"
    assert second["Target profile"] == "not profiled (a level)"
    assert third["80 % interval"] == "—"
    assert third["Outlook"] == "—"


def test_projection_rows_are_empty_without_projection_columns():
    rows = projection_view.projection_rows(pd.DataFrame([{"kpi_code": "X", "kpi_name": "X"}]))
    assert rows.empty
    assert list(rows.columns[: len(projection_view.COLUMNS)]) == projection_view.COLUMNS


def test_a_viewer_does_not_see_a_projection_that_reads_back_a_small_count(monkeypatch):
    monkeypatch.setattr(scope, "workforce_kpis", lambda: frozenset({"SICK_SHIFTS_FTE"}))
    df = pd.DataFrame([
        {"kpi_code": "SICK_SHIFTS_FTE", "org_level": "watch", "numerator": 3.0, "denominator": 20.0,
         "value": 0.15, "projected_value": 0.6, "projected_lower_80": 0.4, "projected_upper_80": 0.8,
         "projection_outlook": "at risk", "annual_target": 1.0},
        {"kpi_code": "RTC_ATTENDED", "org_level": "watch", "numerator": 3.0, "denominator": None,
         "value": 3.0, "projected_value": 12.0, "projected_lower_80": 10.0, "projected_upper_80": 14.0,
         "projection_outlook": "likely met", "annual_target": 20.0},
    ])  # fmt: skip
    with scope.acting_as(User("test-viewer", "viewer", "ESX")):
        shown = scope.suppress_for_viewer(df)
    hidden, kept = shown.to_dict("records")
    for column in ("projected_value", "projected_lower_80", "projected_upper_80", "projection_outlook"):
        assert hidden[column] is None, column
    assert hidden["annual_target"] == 1.0  # a target is not a count of people
    assert kept["projected_value"] == 12.0 and kept["projection_outlook"] == "likely met"


def latest_complete_quarter(mart, service: str):
    return mart(
        """
        select financial_year, financial_quarter from marts.rpt_kpi_quarterly
        where service_id = ? and org_level = 'service'
        group by all having bool_and(is_complete_quarter) order by 1 desc, 2 desc limit 1
        """,
        [service],
    ).iloc[0]


def projected_in_mart(mart, service: str, quarter) -> pd.DataFrame:
    return mart(
        """
        select k.kpi_name, k.decimals, r.unit, r.annual_target, r.projected_value, r.projection_outlook
        from marts.rpt_kpi_quarterly as r join marts.dim_kpi as k using (kpi_code)
        where r.org_unit_id = ? and r.financial_year = ? and r.financial_quarter = ?
            and r.annual_target is not null and r.projected_value is not null
        """,
        [service, quarter.financial_year, quarter.financial_quarter],
    )


def test_the_quarterly_review_shows_the_marts_projection(app, mart):
    at = app("quarterly_review")
    assert not at.exception
    service = at.selectbox(key="w_service").value
    year, quarter = at.selectbox(key="w_quarter").value.split("|")
    expected = projected_in_mart(
        mart, service, pd.Series({"financial_year": year, "financial_quarter": quarter})
    )
    assert not expected.empty, "the demo has KPIs with annual targets: the mart should project them"
    assert any(m.value.startswith("**Year-end projection**") for m in at.markdown)
    table = next(f.value for f in at.dataframe if "Projected year end" in f.value.columns)
    assert list(table.columns) == projection_view.COLUMNS
    shown = table.set_index("KPI")
    assert set(shown.index) == set(expected.kpi_name)
    for row in expected.itertuples():
        shown_row = shown.loc[row.kpi_name]
        assert shown_row["Projected year end"] == fmt.fmt_value(row.projected_value, row.decimals, row.unit)
        assert shown_row["Annual target"] == fmt.fmt_value(row.annual_target, row.decimals, row.unit)
        assert shown_row["Outlook"] == projection_view.outlook_label(row.projection_outlook)
    # Some KPI has an outlook (the demo has three years of history before its latest year).
    assert set(shown.Outlook) & {"Likely met", "At risk", "Likely missed"}


def test_the_quarterly_board_pack_has_the_projection_section(data_dir, mart):
    quarter = latest_complete_quarter(mart, "ESX")
    html = board_pack.quarterly_pack("ESX", quarter.financial_year, quarter.financial_quarter)
    assert "<h2>Year-end projection</h2>" in html
    expected = projected_in_mart(mart, "ESX", quarter)
    assert not expected.empty
    section = html.split("<h2>Year-end projection</h2>", 1)[1].split("<h2", 1)[0]
    for row in expected.itertuples():
        assert fmt.fmt_value(row.projected_value, row.decimals, row.unit) in section
        assert projection_view.outlook_label(row.projection_outlook) in section
