"""Raw-table suites: clean batches pass; each kind of bad data they claim to catch fails, with the
right severity and the failing record's key and lineage."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from expectations.runner import CheckResult, SuiteResult, validate
from expectations.suites import load_frame, raw_suites
from expectations.suites.raw import all_entities, expected_period
from orchestration.ingestion.engine import ensure_raw_table

AS_OF = dt.date(2026, 11, 1)
HISTORY = ("2026-06", "2026-07", "2026-08", "2026-09")
OCT = "2026-10"


def run(wh, table: str, batch_ids: list[int] | None = None, as_of: dt.date = AS_OF) -> SuiteResult:
    suite = raw_suites(wh.con, table, batch_ids or wh.batches(table), as_of=as_of)
    return validate(suite, load_frame(wh.con, suite), run_id="test", batch_label=table)


def failures(result: SuiteResult) -> dict[tuple[str, str | None], CheckResult]:
    return {(c.expectation, c.column): c for c in result.checks if not c.success}


def october(wh, rows, incidents: list[dict] | None = None, mobilisations: list[dict] | None = None, **land):
    """Four clean months of everything, then October as given (clean by default).

    Returns the October (incidents batch, mobilisations batch)."""
    rows.build(wh, HISTORY)
    incidents = incidents if incidents is not None else [rows.incident(n, OCT) for n in range(1, 5)]
    mobilisations = mobilisations if mobilisations is not None else [rows.mobilisation(n, OCT) for n in range(1, 5)]
    inc = wh.land("irs__incidents", incidents, period=OCT, **land)
    mob = wh.land("mobilising__mobilisations", mobilisations, period=OCT, **land)
    return inc, mob


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_clean_batches_pass_every_check(clean_raw):
    tables = (
        "reference__stations", "reference__wards", "reference__appliances", "hr__staff", "hr__absences",
        "irs__incidents", "mobilising__mobilisations",
    )
    results = {table: run(clean_raw, table) for table in tables}
    for table, result in results.items():
        assert result.success, table
        assert not failures(result), (table, failures(result))
        assert result.flagged_records().empty
    incidents = results["irs__incidents"]
    kinds = {c.expectation for c in incidents.checks}
    assert {"ExpectTableRowCountToBeBetween", "ExpectColumnMinToBeBetween", "ExpectColumnValuesToBeNull"} <= kinds
    # Volume is judged from the fourth month on (three previous months needed).
    volume = [c.condition for c in incidents.checks if c.expectation == "ExpectTableRowCountToBeBetween"]
    batches = clean_raw.batches("irs__incidents")
    assert volume == [
        f"service_id = 'ESX' and _period = '2026-09' and _batch_id = {batches[3]}",
        f"service_id = 'ESX' and _period = '2026-10' and _batch_id = {batches[4]}",
    ]


# One October batch with a different defect on each incident: (incident number, overrides, expectation, column).
INCIDENT_DEFECTS = [
    (1, {"incident_type": None}, "ExpectColumnValuesToNotBeNull", "incident_type"),
    (2, {"incident_category": "big fire"}, "ExpectColumnValuesToMatchRegex", "incident_category"),
    (3, {"fatalities": -1}, "ExpectColumnValuesToBeBetween", "fatalities"),
    (4, {"station_ground": "W9"}, "ExpectColumnValuesToBeNull", "_dq_unknown_station_ground"),
    (5, {"ward_code": "E9"}, "ExpectColumnValuesToBeNull", "_dq_unknown_ward_code"),
    (6, {"call_at": pd.Timestamp("2026-09-30 23:00")}, "ExpectColumnPairValuesAToBeGreaterThanB",
     "call_at,_dq_period_start"),
    (7, {"call_at": pd.Timestamp("2026-10-31 23:00")}, "ExpectColumnPairValuesAToBeGreaterThanB", "_loaded_at,call_at"),
    (8, {"incident_id": f"INC-{OCT}-9"}, "ExpectCompoundColumnsToBeUnique", "service_id,incident_id"),
]


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_incident_contract_defects_are_blocking_and_flag_their_records(raw_wh, rows):
    incidents = [rows.incident(n, OCT, **overrides) for n, overrides, _, _ in INCIDENT_DEFECTS]
    incidents += [rows.incident(n, OCT, incident_category=" PRIMARY_FIRE ") for n in (9, 10)]  # case ignored
    mobilisations = [rows.mobilisation(n, OCT) for n in range(1, 11)]
    inc, _ = october(raw_wh, rows, incidents, mobilisations, loaded_at=dt.datetime(2026, 10, 31, 12))
    result = run(raw_wh, "irs__incidents", [inc])
    failed = failures(result)
    assert not result.success
    for n, _, expectation, column in INCIDENT_DEFECTS:
        check = failed[(expectation, column)]
        assert check.severity == "blocking"
        key = f"INC-{OCT}-9" if expectation == "ExpectCompoundColumnsToBeUnique" else f"INC-{OCT}-{n}"
        assert key in set(check.failing["key"]), (expectation, column)
        assert key in check.sample
    blocking = {k for k, c in failed.items() if c.severity == "blocking"}
    assert blocking == {(e, c) for _, _, e, c in INCIDENT_DEFECTS}
    unknown = failed[("ExpectColumnValuesToBeNull", "_dq_unknown_station_ground")].failing
    assert list(unknown["key"]) == [f"INC-{OCT}-4"] and list(unknown["value"]) == ["W9"]
    record = unknown.iloc[0]
    assert record["_batch_id"] == inc and record["_source_row"] == 5 and record["service_id"] == "ESX"
    assert record["_source_file"] == "irs/ESX/incidents_2026-10.csv"
    assert list(failed[("ExpectCompoundColumnsToBeUnique", "service_id,incident_id")].failing["key"]) == [
        f"INC-{OCT}-9", f"INC-{OCT}-9"
    ]


# One October batch with a different defect on each mobilisation: (number, change, expectation, column, severity).
MOBILISING_DEFECTS = [
    (1, {"mobilised_at": pd.Timestamp("2026-10-11 11:59:00")}, "ExpectColumnPairValuesAToBeGreaterThanB",
     "mobilised_at,call_received_at", "blocking"),
    (2, {"in_attendance_at": pd.Timestamp("2026-10-12 13:10:00")}, "ExpectColumnValuesToBeBetween",
     "_dq_elapsed_s", "blocking"),
    (3, {"in_attendance_at": pd.Timestamp("2026-10-13 12:02:41")}, "ExpectColumnValuesToBeBetween",
     "_dq_drive_s", "warning"),
    (4, {"mobile_at": pd.Timestamp("2026-10-14 12:01:11")}, "ExpectColumnValuesToBeBetween", "_dq_turnout_s",
     "warning"),
    (5, {"incident_id": "INC-NOWHERE"}, "ExpectColumnValuesToBeNull", "_dq_incident_not_in_irs", "warning"),
    (6, {"appliance_id": "A9"}, "ExpectColumnValuesToBeNull", "_dq_unknown_appliance_id", "warning"),
    (7, {"in_attendance_at": pd.Timestamp("2026-10-17 12:00:50"), "mobile_at": pd.Timestamp("2026-10-17 12:00:20"),
         "mobilised_at": pd.Timestamp("2026-10-17 12:00:10")}, "ExpectColumnValuesToBeBetween", "_dq_response_s",
     "warning"),
]


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_mobilising_defects_have_their_severity(raw_wh, rows):
    mobilisations = [rows.mobilisation(n, OCT, **change) for n, change, *_ in MOBILISING_DEFECTS]
    mobilisations += [rows.mobilisation(8, OCT, pump_order=None)]  # a null in a row condition's column
    incidents = [rows.incident(n, OCT) for n in range(1, 9)]
    _, mob = october(raw_wh, rows, incidents, mobilisations)
    result = run(raw_wh, "mobilising__mobilisations", [mob])
    failed = failures(result)
    assert not result.success
    for n, _, expectation, column, severity in MOBILISING_DEFECTS:
        check = failed[(expectation, column)]
        assert check.severity == severity, (expectation, column)
        assert f"INC-{OCT}-{n}-1" in set(check.failing["key"]), (expectation, column)
    assert list(failed[("ExpectColumnValuesToBeNull", "_dq_incident_not_in_irs")].failing["value"]) == ["INC-NOWHERE"]
    # Warnings alone never fail a run.
    only_warnings = [
        rows.mobilisation(n, OCT, **change) for n, change, *_, severity in MOBILISING_DEFECTS if severity == "warning"
    ]
    batch = raw_wh.land("mobilising__mobilisations", only_warnings, period=OCT, revision=2)
    result = run(raw_wh, "mobilising__mobilisations", [batch])
    assert result.success and result.warnings and not result.blocking_failures


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_a_redelivered_month_is_judged_by_its_current_rows(raw_wh, rows):
    first, _ = october(raw_wh, rows)
    second = raw_wh.land("irs__incidents", [rows.incident(n, OCT) for n in range(1, 6)], period=OCT, revision=2)
    raw_wh.land("mobilising__mobilisations", [rows.mobilisation(n, OCT) for n in range(1, 6)], period=OCT, revision=2)
    result = run(raw_wh, "irs__incidents", [first, second])
    assert not failures(result), list(failures(result))
    volume = next(c for c in result.checks if c.expectation == "ExpectTableRowCountToBeBetween")
    assert volume.observed_value == "5" and f"_batch_id = {second}" in volume.condition


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_incident_without_any_response_record_is_a_warning(raw_wh, rows):
    incidents = [rows.incident(n, OCT) for n in range(1, 5)] + [
        rows.incident(5, OCT),  # no mobilisation, no attendance time
        rows.incident(6, OCT, first_pump_attendance_seconds=300.0),  # its own time: fine
        rows.incident(7, OCT, first_pump_attendance_seconds=1.0),  # implausible time
    ]
    inc, _ = october(raw_wh, rows, incidents)
    result = run(raw_wh, "irs__incidents", [inc])
    failed = failures(result)
    assert result.success
    assert list(failed[("ExpectColumnValuesToBeNull", "_dq_no_response_record")].failing["key"]) == [f"INC-{OCT}-5"]
    attendance = failed[("ExpectColumnValuesToBeBetween", "first_pump_attendance_seconds")]
    assert attendance.severity == "warning"
    assert list(attendance.failing["value"]) == ["1.0"]


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_unknown_staff_key_is_blocking_and_dates_out_of_order_a_warning(clean_raw):
    batch = clean_raw.land("hr__absences", [
        {"absence_id": "AB9", "staff_key": "p_unknown", "start_date": dt.date(2026, 9, 1),
         "end_date": dt.date(2026, 9, 3), "shifts_lost": 2.0, "reason_category": "stress"},
        {"absence_id": "AB8", "staff_key": "p_1", "start_date": dt.date(2026, 9, 5),
         "end_date": dt.date(2026, 9, 1), "shifts_lost": 1.0, "reason_category": "stress"},
    ], period="2026-10-31")
    failed = failures(run(clean_raw, "hr__absences", [batch]))
    unknown = failed[("ExpectColumnValuesToBeNull", "_dq_unknown_staff_key")]
    assert unknown.severity == "blocking" and list(unknown.failing["key"]) == ["AB9"]
    order = failed[("ExpectColumnPairValuesAToBeGreaterThanB", "end_date,start_date")]
    assert order.severity == "warning" and list(order.failing["key"]) == ["AB8"]


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_overlapping_absence_spells_are_flagged_each_naming_the_other(clean_raw):
    # The recount's case: spells of one person that overlap (224 in the demo since 2022). AB1 and
    # AB2 share 6-10 September; the open AB3 overlaps AB4 (which starts after it); AB5 is another
    # person's, on AB1's dates; AB6 ends the day before AB3 starts (adjacent, not overlapping).
    def spell(absence_id, staff_key, start, end):
        return {"absence_id": absence_id, "staff_key": staff_key, "start_date": start, "end_date": end,
                "shifts_lost": 1.0, "reason_category": "stress"}

    sep = dt.date(2026, 9, 1)
    batch = clean_raw.land("hr__absences", [
        spell("AB1", "p_1", sep, dt.date(2026, 9, 10)),
        spell("AB2", "p_1", dt.date(2026, 9, 6), dt.date(2026, 9, 15)),
        spell("AB3", "p_1", dt.date(2026, 9, 20), None),
        spell("AB4", "p_1", dt.date(2026, 10, 1), dt.date(2026, 10, 2)),
        spell("AB5", "p_2", sep, dt.date(2026, 9, 10)),
        spell("AB6", "p_2", dt.date(2026, 9, 11), dt.date(2026, 9, 19)),
    ], period="2026-10-31")
    result = run(clean_raw, "hr__absences", [batch])
    overlap = failures(result)[("ExpectColumnValuesToBeNull", "_dq_overlapping_spells")]
    assert overlap.severity == "warning"
    assert "do not overlap" in overlap.description
    pairs = dict(zip(overlap.failing["key"], overlap.failing["value"], strict=True))
    assert pairs == {"AB1": "AB2", "AB2": "AB1", "AB3": "AB4", "AB4": "AB3"}
    flagged = result.flagged_records()
    spells = flagged[flagged.column_name == "_dq_overlapping_spells"]
    assert set(spells["_batch_id"]) == {batch} and spells["_source_row"].notna().all()


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_known_codes_are_per_service(clean_raw, rows):
    # Another service with stations but no wards: its stations are checked, its wards are not.
    clean_raw.land("reference__stations", [
        {"station_id": "X1", "station_name": "X1", "group_id": "G", "group_name": "G", "duty_system": "wholetime",
         "valid_from": dt.date(2020, 1, 1)}
    ], service="LFB", period="")
    batch = clean_raw.land("irs__incidents", [
        rows.incident(1, OCT, incident_id="L1", station_ground="X1", ward_code="ANY"),
        rows.incident(2, OCT, incident_id="L2", station_ground="W1"),  # an ESX station
    ], service="LFB", period="")
    suite = raw_suites(clean_raw.con, "irs__incidents", [batch], as_of=AS_OF)
    assert any("ward_code not checked" in n and "LFB" in n for n in suite.notes)
    failed = failures(validate(suite, load_frame(clean_raw.con, suite), run_id="t", batch_label="lfb"))
    station = failed[("ExpectColumnValuesToBeNull", "_dq_unknown_station_ground")]
    assert station.condition is None and list(station.failing["key"]) == ["L2"]
    assert list(station.failing["value"]) == ["W1"] and list(station.failing["service_id"]) == ["LFB"]
    assert ("ExpectColumnValuesToBeNull", "_dq_unknown_ward_code") not in failed


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_freshness_warns_when_the_expected_month_has_not_arrived(clean_raw):
    assert expected_period(all_entities()[3], dt.date(2027, 2, 1)) == dt.date(2027, 1, 1)
    result = run(clean_raw, "irs__incidents", as_of=dt.date(2027, 2, 1))
    check = failures(result)[("ExpectColumnMinToBeBetween", "_dq_latest_period_start")]
    assert check.severity == "warning" and result.success
    assert "2026-10-01" in check.observed_value
    assert check.failing.empty  # a table-level finding flags no record


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
@pytest.mark.parametrize("count", [1, 12])
def test_volume_outside_the_band_of_previous_months_is_a_warning(raw_wh, rows, count):
    inc, _ = october(
        raw_wh, rows,
        [rows.incident(n, OCT) for n in range(1, count + 1)],
        [rows.mobilisation(n, OCT) for n in range(1, count + 1)],
    )
    result = run(raw_wh, "irs__incidents", [inc])
    check = failures(result)[("ExpectTableRowCountToBeBetween", None)]
    assert check.severity == "warning" and result.success
    assert check.observed_value == str(count)
    assert "median row count (4)" in check.description


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_every_contract_gets_a_suite(tmp_path):
    import duckdb

    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    con.execute("create schema raw")
    con.execute("create schema raw_current")
    for e in all_entities():
        ensure_raw_table(con, e)
        suite = raw_suites(con, e.table, [1], as_of=AS_OF)
        required = sum(1 for c in e.loaded_columns if c.required or c.name in e.key)
        kinds = [c.expectation for c in suite.checks]
        assert kinds.count("ExpectColumnValuesToNotBeNull") == required, e.table
        assert "ExpectCompoundColumnsToBeUnique" in kinds and "ExpectTableColumnsToMatchSet" in kinds
        assert all(c.severity in ("blocking", "warning") and c.description for c in suite.checks)
    frame = load_frame(con, raw_suites(con, "irs__incidents", [1], as_of=AS_OF))
    assert frame.empty
    con.close()
