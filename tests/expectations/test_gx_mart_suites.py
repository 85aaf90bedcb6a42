"""Mart suites: a consistent set of KPI marts passes; implausible values, missing levels, roll-ups
that do not add up, duplicates and missing targets fail with the declared severity."""

from __future__ import annotations

import datetime as dt

import pytest

from expectations.runner import SuiteResult, validate
from expectations.suites import load_frame, mart_suites
from expectations.suites.marts import financial_year, report_month

AS_OF = dt.date(2026, 11, 1)


def run_all(con) -> dict[str, SuiteResult]:
    return {
        suite.name.rsplit(".", 1)[-1]: validate(suite, load_frame(con, suite), run_id="test", batch_label="2026-10")
        for suite in mart_suites(AS_OF)
    }


def failed(result: SuiteResult) -> dict[str | None, object]:
    return {c.column: c for c in result.checks if not c.success}


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_consistent_marts_pass(marts_con):
    results = run_all(marts_con)
    assert set(results) == {"values", "presence", "rollups", "targets"}
    for name, result in results.items():
        assert all(c.success for c in result.checks), (name, failed(result))
        assert result.rows > 0, name
    # Only the KPI with a polarity needs a target; INC's polarity is 'none'.
    assert results["targets"].rows == 1


def test_report_month_and_financial_year():
    assert report_month(AS_OF) == dt.date(2026, 10, 1)
    assert financial_year(dt.date(2026, 10, 1)) == "2026-27"
    assert financial_year(dt.date(2027, 3, 1)) == "2026-27"
    assert financial_year(dt.date(2027, 4, 1)) == "2027-28"


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_implausible_values_and_duplicates_are_blocking(marts_con):
    marts_con.execute("update marts.rpt_kpi_monthly set value = 120 where kpi_month_sk = 'PCT|S-ST1|2026-10-01'")
    marts_con.execute("update marts.rpt_kpi_monthly set numerator = -1 where kpi_month_sk = 'INC|S-ST2|2026-09-01'")
    marts_con.execute(
        "insert into marts.rpt_kpi_monthly select * from marts.rpt_kpi_monthly where kpi_month_sk = 'INC|S|2026-10-01'"
    )
    result = run_all(marts_con)["values"]
    assert not result.success
    value = next(c for c in result.checks if not c.success and c.column == "value")
    assert value.condition == "unit = 'percent'" and value.severity == "blocking"
    assert list(value.failing["key"]) == ["PCT|S-ST1|2026-10-01"] and list(value.failing["value"]) == ["120.0"]
    assert list(failed(result)["numerator"].failing["key"]) == ["INC|S-ST2|2026-09-01"]
    assert list(failed(result)["kpi_code,org_unit_id,period_month"].failing["key"]) == ["INC|S|2026-10-01"] * 2
    assert {c.severity for c in result.blocking_failures} == {"blocking"}


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_a_missing_level_is_blocking(marts_con):
    marts_con.execute("delete from marts.rpt_kpi_monthly where kpi_code = 'PCT' and org_level = 'group'")
    marts_con.execute("delete from marts.rpt_kpi_monthly where kpi_month_sk = 'INC|S-ST2|2026-10-01'")
    result = run_all(marts_con)["presence"]
    assert not result.success
    missing = failed(result)
    assert sorted(missing["units_present"].failing["key"]) == ["S|PCT|group|2026-09-01", "S|PCT|group|2026-10-01"]
    assert sorted(missing["units_present,units_expected"].failing["key"]) == [
        "S|INC|station|2026-10-01", "S|PCT|group|2026-09-01", "S|PCT|group|2026-10-01"
    ]


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_rollups_that_do_not_add_up_are_blocking(marts_con):
    marts_con.execute(
        "update marts.rpt_kpi_monthly set numerator = numerator + 1 where kpi_month_sk = 'INC|S-G1|2026-10-01'"
    )
    marts_con.execute("update marts.rpt_kpi_monthly set denominator = 25 where kpi_month_sk = 'PCT|S|2026-09-01'")
    result = run_all(marts_con)["rollups"]
    assert not result.success
    gaps = failed(result)
    assert list(gaps["numerator_gap"].failing["key"]) == ["INC|S-G1|2026-10-01"]
    assert list(gaps["denominator_gap"].failing["key"]) == ["PCT|S|2026-09-01"]
    assert gaps["denominator_gap"].severity == "blocking"
    # Something observed directly at the service (not via a station) belongs to the service's total.
    marts_con.execute("update marts.rpt_kpi_monthly set denominator = 20 where kpi_month_sk = 'PCT|S|2026-09-01'")
    marts_con.execute(
        "insert into marts.fct_kpi_observations (kpi_code, org_unit_id, period_month, numerator, denominator, "
        "service_id) values ('INC', 'S', '2026-09-01', 5, null, 'S')"
    )
    marts_con.execute(
        "update marts.rpt_kpi_monthly set numerator = numerator + 5 where kpi_month_sk = 'INC|S|2026-09-01'"
    )
    gaps = failed(run_all(marts_con)["rollups"])
    assert list(gaps["numerator_gap"].failing["key"]) == ["INC|S-G1|2026-10-01"]
    assert "denominator_gap" not in gaps


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_incidents_without_station_ground_count_at_the_service_only(marts_con):
    """Observed at the service itself (no station ground), 3 incidents make the service exceed
    its stations by exactly that much, and that passes; a group holding them fails."""
    marts_con.execute(
        "insert into marts.fct_kpi_observations (kpi_code, org_unit_id, period_month, numerator, denominator, "
        "service_id) values ('INC', 'S', '2026-10-01', 3, null, 'S')"
    )
    marts_con.execute(
        "update marts.rpt_kpi_monthly set numerator = numerator + 3 where kpi_month_sk = 'INC|S|2026-10-01'"
    )
    assert run_all(marts_con)["rollups"].success
    marts_con.execute(
        "update marts.rpt_kpi_monthly set numerator = numerator + 3 where kpi_month_sk = 'INC|S-G1|2026-10-01'"
    )
    gaps = failed(run_all(marts_con)["rollups"])
    assert list(gaps["numerator_gap"].failing["key"]) == ["INC|S-G1|2026-10-01"]


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_not_recorded_values_pass_every_suite(marts_con):
    """A KPI a service does not record is null at every level (value_note 'not recorded'): no
    value to range-check and nothing that fails to add up."""
    marts_con.execute(
        "update marts.rpt_kpi_monthly set numerator = null, denominator = null, value = null "
        "where kpi_code = 'PCT' and period_month = '2026-09-01'"
    )
    marts_con.execute(
        "update marts.fct_kpi_observations set numerator = null, denominator = null "
        "where kpi_code = 'PCT' and period_month = '2026-09-01'"
    )
    results = run_all(marts_con)
    assert results["rollups"].success and results["values"].success and results["presence"].success


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_missing_target_for_the_year_is_a_warning(marts_con):
    marts_con.execute("update marts.rpt_kpi_monthly set target = null where kpi_code = 'PCT'")
    result = run_all(marts_con)["targets"]
    # Without any target the service does not take part; with one target elsewhere it must have this one.
    assert result.rows == 0 and result.success
    marts_con.execute("update marts.rpt_kpi_monthly set target = 5 where kpi_month_sk = 'INC|S|2026-09-01'")
    result = run_all(marts_con)["targets"]
    check = result.checks[0]
    assert not check.success and check.severity == "warning" and result.success
    assert list(check.failing["key"]) == ["S|PCT"]


def scope_to_october(con) -> None:
    """As after a close whose dbt build (``inv2``) rewrote October: rows carry the build that wrote them."""
    con.execute("alter table marts.rpt_kpi_monthly add column _invocation_id varchar default 'inv1'")
    con.execute("update marts.rpt_kpi_monthly set _invocation_id = 'inv2' where period_month = '2026-10-01'")
    con.execute(
        "create table intermediate.int_kpi_months_to_recompute as "
        "select 'S' as service_id, date '2026-10-01' as period_month, date '2026-10-01' as from_month"
    )


def run_scoped(con, invocation_id: str | None) -> dict[str, SuiteResult]:
    return {
        suite.name.rsplit(".", 1)[-1]: validate(suite, load_frame(con, suite), run_id="t", batch_label="2026-10")
        for suite in mart_suites(AS_OF, invocation_id)
    }


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_a_close_checks_only_the_months_its_build_rewrote(marts_con):
    scope_to_october(marts_con)
    # September, written and checked by an earlier build, is not read again.
    marts_con.execute("update marts.rpt_kpi_monthly set value = 120 where kpi_month_sk = 'PCT|S-ST1|2026-09-01'")
    scoped = run_scoped(marts_con, "inv2")
    assert all(r.success for r in scoped.values()), {n: failed(r) for n, r in scoped.items()}
    whole = run_all(marts_con)
    assert scoped["values"].rows == whole["values"].rows // 2
    assert scoped["rollups"].rows == whole["rollups"].rows // 2
    assert scoped["targets"].rows == whole["targets"].rows  # always over the whole report
    assert not whole["values"].success  # the unscoped gate (a full build) does read September
    # What the build wrote in October is checked as before.
    marts_con.execute(
        "update marts.rpt_kpi_monthly set numerator = numerator + 5 where kpi_month_sk = 'INC|S-G1|2026-10-01'"
    )
    assert not run_scoped(marts_con, "inv2")["rollups"].success


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_a_kpi_a_close_emptied_out_is_still_expected(marts_con):
    scope_to_october(marts_con)
    marts_con.execute("delete from marts.rpt_kpi_monthly where kpi_code = 'PCT' and period_month = '2026-10-01'")
    presence = run_scoped(marts_con, "inv2")["presence"]
    assert not presence.success
    assert presence.rows > 0
