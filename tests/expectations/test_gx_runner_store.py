"""The runner (GX validation of a DataFrame) and the store (append-only audit tables, Data Docs)."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from expectations.runner import SAMPLE_SIZE, validate
from expectations.store import blocking_failures, build_data_docs, record
from expectations.suites import Check, Suite


def frame(n: int = 50) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"R{i}" for i in range(n)],
            "service_id": ["ESX"] * (n - 5) + [None] * 5,
            "amount": [float(i) for i in range(n)],
            "code": ["a", "b"] * (n // 2),
            "_source_file": "x/ESX/file.csv",
            "_source_row": range(2, n + 2),
            "_batch_id": 7,
        }
    )


def suite() -> Suite:
    return Suite(
        name="test.suite",
        target="raw.test",
        key_columns=["id"],
        checks=[
            Check("ExpectColumnValuesToNotBeNull", {"column": "id"}, "blocking", "ids are filled"),
            Check(
                "ExpectColumnValuesToBeBetween", {"column": "amount", "max_value": 9}, "blocking", "amount at most 9"
            ),
            Check("ExpectColumnValuesToBeInSet", {"column": "code", "value_set": ["a"]}, "warning", "code is a",
                  where={"service_id": None}),
            Check("ExpectTableRowCountToBeBetween", {"min_value": 100}, "warning", "at least 100 rows"),
        ],
    )


def test_failing_keys_values_lineage_and_severity():
    result = validate(suite(), frame(), run_id="r1", batch_label="file.csv")
    ok, amount, code, rows = result.checks
    assert ok.success and ok.element_count == 50 and ok.unexpected_count == 0 and ok.failing.empty
    assert not amount.success and amount.severity == "blocking" and amount.unexpected_count == 40
    assert amount.unexpected_percent == pytest.approx(80.0)
    assert list(amount.failing["key"][:2]) == ["R10", "R11"] and list(amount.failing["value"][:2]) == ["10.0", "11.0"]
    lineage = {"service_id", "_source_file", "_source_row", "_batch_id"}
    assert set(amount.failing.columns) >= {"id", "key", "value", *lineage}
    assert amount.failing["_source_row"].iloc[0] == 12 and amount.failing["_batch_id"].iloc[0] == 7
    sample = json.loads(amount.sample)
    assert len(sample) == SAMPLE_SIZE and sample[0] == {"key": "R10", "value": "10.0"}
    # A row condition on a null: only the five rows without a service are checked.
    assert code.element_count == 5 and code.condition == "service_id is null"
    assert list(code.failing["key"]) == ["R45", "R47", "R49"] and code.severity == "warning"
    # Table-level: observed value, no records flagged.
    assert not rows.success and rows.observed_value == "50" and rows.failing.empty
    assert not result.success
    assert [c.number for c in result.blocking_failures] == [2] and [c.number for c in result.warnings] == [3, 4]
    assert len(result.flagged_records()) == 43


def test_warnings_alone_do_not_fail_and_errors_are_failures():
    s = suite()
    s.checks = [c for c in s.checks if c.severity == "warning"] + [
        Check("ExpectColumnValuesToNotBeNull", {"column": "no_such_column"}, "warning", "a column that is absent"),
    ]
    result = validate(s, frame(), run_id="r1", batch_label="b")
    assert result.success and len(result.warnings) == 3
    missing = result.checks[-1]
    assert not missing.success and missing.exception
    s.checks[-1] = Check("ExpectColumnValuesToNotBeNull", {"column": "no_such_column"}, "blocking", "absent")
    assert not validate(s, frame(), run_id="r1", batch_label="b").success


def test_definitions_are_checked():
    with pytest.raises(ValueError, match="severity"):
        Check("ExpectColumnValuesToNotBeNull", {"column": "id"}, "fatal", "x")  # type: ignore[arg-type]
    bad = Suite("s", "t", [Check("ExpectColumnValuesToBeFabulous", {"column": "id"}, "warning", "x")], ["id"])
    with pytest.raises(ValueError, match="unknown GX expectation"):
        validate(bad, frame(), run_id="r", batch_label="b")


def test_runs_are_appended_never_overwritten(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    first = validate(suite(), frame(), run_id="run-1", batch_label="file.csv")
    record(con, first)
    before = con.execute("select * from audit.dq_results order by check_number").df()
    second = validate(suite(), frame(), run_id="run-2", batch_label="file.csv")
    record(con, second)
    runs = con.execute(
        "select run_id, suite, target, success, checks, blocking_failures, warnings, rows_validated, records_flagged "
        "from audit.dq_runs order by run_id"
    ).fetchall()
    assert runs == [
        ("run-1", "test.suite", "raw.test", False, 4, 1, 2, 50, 43),
        ("run-2", "test.suite", "raw.test", False, 4, 1, 2, 50, 43),
    ]
    after = con.execute(
        "select * from audit.dq_results where validation_id = ? order by check_number", [first.validation_id]
    ).df()
    pd.testing.assert_frame_equal(before, after)
    assert con.execute("select count(*) from audit.dq_results").fetchall()[0][0] == 8
    flags = con.execute(
        "select severity, expectation, column_name, key, value, service_id, _source_file, _source_row, _batch_id "
        "from audit.dq_record_flags where run_id = 'run-1' order by check_number, _source_row limit 1"
    ).fetchall()
    assert flags == [("blocking", "ExpectColumnValuesToBeBetween", "amount", "R10", "10.0", "ESX", "x/ESX/file.csv",
                      12, 7)]
    assert con.execute("select count(*) from audit.dq_record_flags").fetchall()[0][0] == 86
    row = con.execute(
        "select expectation, column_name, severity, success, element_count, unexpected_count, unexpected_percent, "
        "sample, batch_label, description, validated_at from audit.dq_results "
        "where run_id = 'run-2' and check_number = 2"
    ).fetchall()[0]
    assert row[:7] == ("ExpectColumnValuesToBeBetween", "amount", "blocking", False, 50, 40, 80.0)
    assert json.loads(row[7])[0] == {"key": "R10", "value": "10.0"} and row[8] == "file.csv" and row[10]
    with pytest.raises(ValueError, match="already recorded"):
        record(con, second)
    con.close()


def test_blocking_failure_messages_name_suite_check_counts_and_keys():
    messages = blocking_failures(validate(suite(), frame(), run_id="r", batch_label="file.csv"))
    assert len(messages) == 1
    message = messages[0]
    for part in ("test.suite", "file.csv", "ExpectColumnValuesToBeBetween(amount)", "40 of 50", "80.00%", "R10, R11",
                 "amount at most 9"):
        assert part in message, part


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_data_docs_are_built_under_data_dir(tmp_path):
    validate(suite(), frame(), run_id="r", batch_label="file.csv", data_dir=tmp_path)
    index = build_data_docs(tmp_path)
    assert index == tmp_path / "docs" / "index.html" and index.exists()
    pages = list((tmp_path / "docs" / "validations").rglob("*.html"))
    assert len(pages) == 1 and "amount" in pages[0].read_text()


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_data_docs_for_a_run_render_that_runs_pages_and_keep_the_others(tmp_path):
    validate(suite(), frame(), run_id="run-1", batch_label="first.csv", data_dir=tmp_path)
    build_data_docs(tmp_path, run_id="run-1")
    (first,) = (tmp_path / "docs" / "validations").rglob("*.html")
    rendered = first.stat().st_mtime_ns
    validate(suite(), frame(), run_id="run-2", batch_label="second.csv", data_dir=tmp_path)
    index = build_data_docs(tmp_path, run_id="run-2")
    pages = sorted((tmp_path / "docs" / "validations").rglob("*.html"))
    assert len(pages) == 2 and {"run-1", "run-2"} == {p.parent.parent.name.rsplit("-", 1)[0] for p in pages}
    assert first.stat().st_mtime_ns == rendered  # run-1's page was not rendered again
    assert "run-1" in index.read_text() and "run-2" in index.read_text()


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_pipeline_helpers_validate_and_record(raw_wh):
    import datetime as dt

    from expectations.pipeline import blocking_messages, check_all_raw, check_raw

    stations = [
        {"station_id": s, "station_name": s, "group_id": "G1", "group_name": "North", "duty_system": "wholetime",
         "valid_from": dt.date(2020, 1, 1)}
        for s in ("W1", "W2")
    ]
    raw_wh.land("reference__stations", stations)
    raw_wh.land("reference__appliances", [
        {"appliance_id": "A1", "station_id": "W1", "appliance_type": "pump", "duty_system": "wholetime"},
        {"appliance_id": "A2", "station_id": "W3", "appliance_type": "pump", "duty_system": "wholetime"},
    ])
    results = check_all_raw(raw_wh.con, run_id="p1", as_of=dt.date(2026, 11, 1))
    assert [r.suite for r in results] == ["raw.reference__stations", "raw.reference__appliances"]
    assert [r.success for r in results] == [True, False]
    (message,) = blocking_messages(results)
    assert "raw.reference__appliances" in message and "A2" in message and "1 of 2 values failed" in message
    one = check_raw(raw_wh.con, "reference__stations", [1], run_id="p2", as_of=dt.date(2026, 11, 1))
    assert one.batch_label == "batch 1"
    runs = raw_wh.con.execute("select run_id, count(*) from audit.dq_runs group by 1 order by 1").fetchall()
    assert runs == [("p1", 2), ("p2", 1)]
    flagged = raw_wh.con.execute("select key, value, _source_row from audit.dq_record_flags").fetchall()
    assert flagged == [("A2", "W3", 3)]
