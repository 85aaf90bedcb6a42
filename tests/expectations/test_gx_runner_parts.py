"""The runner's cheaper ways of giving GX its work give the results GX gives on the whole frame.

The runner validates a frame in parts (each check on the columns it reads, conditioned checks on
the rows their condition selects, column-set checks on the header), counts conditional table row
counts itself and gives nullable integer columns to range checks as floats. Each test compares
with the plain way: one GX validation of the whole frame with every check and its row condition.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

import expectations.chunks as chunks
from expectations.gx_adapter import Part
from expectations.runner import CheckResult, validate
from expectations.suites import Check, Suite, load_frame, raw_suites

AS_OF = dt.date(2026, 11, 1)


def mixed_frame(n: int = 60) -> pd.DataFrame:
    """Three services (one of them null), two periods and batches, failing values of every kind."""
    services = ["ESX", "AVN", None]
    frame = pd.DataFrame(
        {
            "id": [f"R{i % 45}" for i in range(n)],  # repeats within a service: duplicate keys
            "service_id": pd.array([services[i % 3] for i in range(n)], dtype="str"),
            "_period": pd.array(["2026-09" if i < n // 2 else "2026-10" for i in range(n)], dtype="str"),
            "_batch_id": [7 if i < n // 2 else 8 for i in range(n)],
            "code": pd.array([("a", "b", "zz", None)[i % 4] for i in range(n)], dtype="str"),
            "amount": pd.array([None if i % 7 == 0 else (i - 5 if i % 11 else -3) for i in range(n)], dtype="Int64"),
            "start_at": pd.Timestamp("2026-10-01") + pd.to_timedelta(np.arange(n), unit="h"),
            "_dq_current": [i % 5 != 0 for i in range(n)],
            "_source_file": "x/file.csv",
            "_source_row": range(2, n + 2),
        }
    )
    frame["end_at"] = frame["start_at"] + pd.to_timedelta([(-1 if i % 9 == 0 else 2) for i in range(n)], unit="h")
    frame.loc[frame.index % 13 == 0, "end_at"] = pd.NaT
    return frame


def mixed_suite() -> Suite:
    def check(expectation: str, where: dict | None = None, **kwargs) -> Check:
        return Check(expectation, kwargs, "warning", f"{expectation} {kwargs} {where}", where)

    return Suite(
        name="test.parts",
        target="raw.test",
        key_columns=["id"],
        checks=[
            check("ExpectTableColumnsToMatchSet", column_set=["id", "code", "service_id"], exact_match=False),
            check("ExpectTableColumnsToMatchSet", column_set=["id", "code"], exact_match=True),
            check("ExpectColumnValuesToNotBeNull", column="code"),
            check("ExpectColumnValuesToBeInSet", {"service_id": "ESX"}, column="code", value_set=["a", "b"]),
            check("ExpectColumnValuesToBeInSet", {"service_id": None}, column="code", value_set=["a"]),
            check("ExpectColumnValuesToBeInSet", {"service_id": "XXX"}, column="code", value_set=["a"]),
            check("ExpectColumnValuesToBeBetween", column="amount", min_value=0, max_value=40),
            check("ExpectColumnValuesToBeBetween", {"service_id": "AVN"}, column="amount", min_value=0),
            check("ExpectCompoundColumnsToBeUnique", {"_dq_current": True}, column_list=["service_id", "id"]),
            check(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                column_A="end_at",
                column_B="start_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            check(
                "ExpectColumnMinToBeBetween", {"service_id": "ESX", "_period": "2026-10"}, column="amount", min_value=1
            ),
            check(
                "ExpectTableRowCountToBeBetween",
                {"service_id": "ESX", "_period": "2026-09", "_batch_id": 7},
                min_value=5,
                max_value=20,
            ),
            check(
                "ExpectTableRowCountToBeBetween",
                {"service_id": "AVN", "_period": "2026-10", "_batch_id": 8},
                min_value=11,
                max_value=20,
            ),
            check(
                "ExpectTableRowCountToBeBetween",
                {"service_id": None, "_period": "2026-10", "_batch_id": 8},
                min_value=10,
                max_value=10,
                strict_max=True,
            ),
            check(
                "ExpectTableRowCountToBeBetween",
                {"service_id": "ESX", "_period": "2026-11", "_batch_id": 9},
                min_value=1,
            ),
            check("ExpectTableRowCountToBeBetween", min_value=61),
            check(
                "ExpectTableRowCountToBeBetween",
                {"service_id": "ESX", "_period": "2026-09", "_batch_id": 7},
                min_value=10,
                max_value=10,
            ),
            check("ExpectColumnValuesToNotBeNull", {"no_such_column": 1}, column="code"),
            check("ExpectTableRowCountToBeBetween", {"no_such_column": 1}, min_value=1),
            check("ExpectColumnValuesToNotBeNull", column="no_such_column"),
        ],
    )


@pytest.fixture
def plain_gx(monkeypatch):
    """Run ``validate`` the plain way: the whole frame, every check with its row condition, in GX."""

    def run(suite: Suite, frame: pd.DataFrame, **kwargs):
        with monkeypatch.context() as m:
            m.setattr(chunks, "is_counted", lambda check, frame: False)
            m.setattr(chunks, "gx_parts", lambda frame, checks: [Part(frame, checks)] if checks else [])
            return validate(suite, frame, **kwargs)

    return run


def comparable(check: CheckResult) -> dict:
    fields = {k: v for k, v in vars(check).items() if k != "failing"}
    fields["failing"] = check.failing.reset_index(drop=True).to_dict("list")
    return fields


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_parts_give_the_results_of_one_whole_frame_validation(plain_gx):
    suite, frame = mixed_suite(), mixed_frame()
    fast = validate(suite, frame, run_id="r", batch_label="b")
    plain = plain_gx(suite, frame, run_id="r", batch_label="b")
    assert [comparable(c) for c in fast.checks] == [comparable(c) for c in plain.checks]
    # The cases the comparison covers: failures with flagged records, passes, table-level outcomes, errors.
    by_number = {c.number: c for c in fast.checks}
    assert not by_number[4].success and set(by_number[4].failing["value"]) == {"zz"}
    assert by_number[6].success and by_number[6].element_count == 0
    assert not by_number[7].success and "-3" in set(by_number[7].failing["value"])  # integers, not -3.0
    assert not by_number[9].success and len(by_number[9].failing)
    assert not by_number[10].success and by_number[10].unexpected_count
    counted = (12, 13, 14, 15, 16, 17)
    assert [by_number[n].observed_value for n in counted] == ["10", "10", "10", "0", "60", "10"]
    assert [by_number[n].success for n in counted] == [True, False, False, False, False, True]  # bounds inclusive
    assert all(by_number[n].exception for n in (18, 19, 20))


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_an_empty_frame_gives_the_same_results(plain_gx):
    suite, frame = mixed_suite(), mixed_frame().iloc[:0]
    fast = validate(suite, frame, run_id="r", batch_label="b")
    plain = plain_gx(suite, frame, run_id="r", batch_label="b")
    assert [comparable(c) for c in fast.checks] == [comparable(c) for c in plain.checks]


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_raw_suites_give_the_same_results_in_parts(clean_raw, rows, plain_gx):
    later = [
        rows.incident(n, "2026-10", fatalities=-1 if n == 2 else 0, station_ground="W9" if n == 3 else "W1")
        for n in range(1, 6)
    ]
    inc = clean_raw.land("irs__incidents", later, period="2026-10", revision=2)
    for table in ("irs__incidents", "mobilising__mobilisations", "hr__absences", "reference__wards"):
        suite = raw_suites(clean_raw.con, table, clean_raw.batches(table), as_of=AS_OF)
        frame = load_frame(clean_raw.con, suite)
        fast = validate(suite, frame, run_id="r", batch_label="b")
        plain = plain_gx(suite, frame, run_id="r", batch_label="b")
        assert [comparable(c) for c in fast.checks] == [comparable(c) for c in plain.checks], table
    suite = raw_suites(clean_raw.con, "irs__incidents", [inc], as_of=AS_OF)
    result = validate(suite, load_frame(clean_raw.con, suite), run_id="r", batch_label="b")
    failed = {(c.expectation, c.column) for c in result.checks if not c.success}
    assert ("ExpectColumnValuesToBeBetween", "fatalities") in failed
    assert ("ExpectColumnValuesToBeNull", "_dq_unknown_station_ground") in failed


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_the_data_docs_copy_shows_every_check_as_defined(tmp_path):
    suite, frame = mixed_suite(), mixed_frame()
    result = validate(suite, frame, run_id="r", batch_label="batch 7..8", data_dir=tmp_path)
    (path,) = (tmp_path / "gx" / "uncommitted" / "validations").rglob("*.json")
    kept = json.loads(path.read_text())
    results = {r["expectation_config"]["meta"]["check_number"]: r for r in kept["results"]}
    assert sorted(results) == [c.number for c in result.checks]
    assert [r["expectation_config"]["meta"]["check_number"] for r in kept["results"]] == sorted(results)
    assert kept["statistics"]["evaluated_expectations"] == len(suite.checks)
    assert kept["statistics"]["successful_expectations"] == sum(c.success for c in result.checks)
    for number, check in enumerate(suite.checks, start=1):
        assert ("row_condition" in results[number]["expectation_config"]["kwargs"]) == bool(check.where), number
    assert results[12]["result"] == {"observed_value": 10} and results[12]["success"]
    assert results[7]["result"]["partial_unexpected_list"][0] == -4  # an integer, as the column holds it
    assert all(isinstance(v, int) for v in results[7]["result"]["partial_unexpected_list"])
    assert "unexpected_index_list" not in results[7]["result"]  # the bulky lists stay out of the copy


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_gx_does_not_fingerprint_the_frames_it_is_given(monkeypatch):
    """GX's batch fingerprint (a hash of the whole frame) labels nothing the platform reads; at
    national scale it was a fifth of the raw gate. The same results come without it."""
    from great_expectations.execution_engine import pandas_execution_engine

    def refuse(df):
        raise AssertionError("GX hashed a frame")

    suite, frame = mixed_suite(), mixed_frame()
    expected = [comparable(c) for c in validate(suite, frame, run_id="r", batch_label="b").checks]
    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", refuse)
    assert [comparable(c) for c in validate(suite, frame, run_id="r", batch_label="b").checks] == expected
    assert pandas_execution_engine.HASH_THRESHOLD == 0  # the setting GX reads at each batch
