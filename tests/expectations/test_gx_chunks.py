"""A frame validated in chunks gives the results of the whole frame: the same failures, counts,
samples and flagged records, uniqueness judged across chunks, volumes and extremes over all rows.

The pipeline reads a suite's frame in chunks of ``CHUNK_ROWS`` rows so that a national table is
never held whole; these tests force chunks of a few rows on data with faults and compare with one
GX validation of the whole frame (``validate(suite, load_frame(...))``, as the gates ran before).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from expectations.pipeline import blocking_messages, check_all_raw, check_marts, validate_suite
from expectations.runner import SuiteResult, chunk_key, validate
from expectations.suites import Check, Suite, load_frame, mart_suites, raw_suites, raw_tables, read_chunks
from expectations.suites.raw import current_batches
from orchestration.ingestion.contracts import SYSTEMS
from orchestration.ingestion.engine import ingest_system, load_pseudonymiser
from orchestration.warehouse import connect
from tests.conftest import simulate
from tests.expectations.test_gx_runner_parts import mixed_frame, mixed_suite

# A month after the simulated data ends: every periodic table misses its expected month (freshness).
AS_OF = dt.date(2026, 12, 1)
CHUNK = 700  # rows per chunk: about a dozen chunks for the largest simulated table


def comparable(result: SuiteResult) -> list[dict]:
    """Every field of every check, the failing records as plain values in their order."""
    out = []
    for c in result.checks:
        fields = {k: v for k, v in vars(c).items() if k != "failing"}
        failing = c.failing.astype(object)
        fields["failing"] = failing.where(failing.notna(), None).to_dict("records")
        out.append(fields)
    return out


def chunk_notes(result: SuiteResult) -> list[str]:
    return [n for n in result.notes if n.startswith("validated in ")]


@pytest.fixture(scope="module")
def faulty_raw(tmp_path_factory):
    """A year of simulated data with faults, landed, then more faults of the kinds ingestion stops
    (which the raw suites re-check) written into the raw tables: a key repeated in another month,
    null keys, out-of-range and unknown codes, timestamps out of order and a month with few rows."""
    data = tmp_path_factory.mktemp("chunks")
    simulate(data / "landing", years=1, fault_rate=0.02)
    key = load_pseudonymiser(data / "secrets")
    with connect(data / "warehouse.duckdb") as con:
        for system in ("reference", *[s for s in SYSTEMS if s != "reference"]):
            ingest_system(con, system, data / "landing", key)
        for table, id_column in (("irs__incidents", "incident_id"), ("mobilising__mobilisations", "mobilisation_id")):
            first, last = con.execute(f"select min(_batch_id), max(_batch_id) from raw.{table}").fetchall()[0]
            con.execute(
                f"update raw.{table} set {id_column} = (select {id_column} from raw.{table} "
                f"where _batch_id = {first} and _source_row = 3) where _batch_id = {last} and _source_row = 4"
            )
        con.execute("update raw.irs__incidents set incident_id = null where _source_row in (5, 6)")
        con.execute("update raw.irs__incidents set fatalities = -1 where _source_row % 400 = 7")
        con.execute("update raw.irs__incidents set incident_category = 'bogus' where _source_row % 500 = 11")
        con.execute("update raw.irs__incidents set station_ground = 'NOWHERE' where _source_row % 450 = 13")
        con.execute(
            "update raw.mobilising__mobilisations set mobile_at = mobilised_at - interval 5 minute "
            "where _source_row % 300 = 5"
        )
        con.execute("delete from raw.irs__incidents where _period = '2026-07' and _source_row > 60")
    con = duckdb.connect(str(data / "warehouse.duckdb"))
    yield con
    con.close()


@pytest.mark.slow  # a faulty year simulated and ingested
def test_raw_suites_in_chunks_give_the_whole_frames_results(faulty_raw):
    con = faulty_raw
    kinds_failed: set[str] = set()
    for table in raw_tables(con):
        ids = current_batches(con, table)
        if not ids:
            continue
        suite = raw_suites(con, table, ids, as_of=AS_OF)
        whole = validate(suite, load_frame(con, suite), run_id="r", batch_label="b")
        chunked = validate_suite(con, suite, run_id="r", batch_label="b", chunk_rows=CHUNK)
        assert comparable(chunked) == comparable(whole), table
        assert chunked.rows == whole.rows and chunked.success == whole.success, table
        assert [n for n in chunked.notes if n not in chunk_notes(chunked)] == whole.notes
        assert blocking_messages([chunked]) == blocking_messages([whole]), table
        if whole.rows > CHUNK:
            (note,) = chunk_notes(chunked)
            assert f"rows with equal {', '.join(['service_id', *suite.key_columns])} in the same chunk" in note
        kinds_failed |= {c.expectation for c in whole.checks if not c.success}
    # The comparison covered failures of every kind of check the raw suites hold.
    assert {
        "ExpectCompoundColumnsToBeUnique",  # across batches and chunks: the repeated key and the null keys
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeBetween",
        "ExpectColumnValuesToMatchRegex",
        "ExpectColumnValuesToBeNull",  # codes unknown for the record's service; incidents without mobilisations
        "ExpectColumnPairValuesAToBeGreaterThanB",
        "ExpectColumnMinToBeBetween",  # freshness
        "ExpectTableRowCountToBeBetween",  # volume
    } <= kinds_failed


@pytest.mark.slow  # a faulty year simulated and ingested
def test_a_key_repeated_in_another_month_is_flagged_in_chunks(faulty_raw):
    con = faulty_raw
    suite = raw_suites(con, "irs__incidents", current_batches(con, "irs__incidents"), as_of=AS_OF)
    result = validate_suite(con, suite, run_id="r", batch_label="b", chunk_rows=CHUNK)
    unique = next(c for c in result.checks if c.expectation == "ExpectCompoundColumnsToBeUnique")
    repeated = unique.failing[unique.failing["incident_id"].notna()]
    assert len(repeated) == 2 and repeated["_batch_id"].nunique() == 2
    assert unique.failing["incident_id"].isna().sum() == unique.unexpected_count - 2


@pytest.mark.slow  # a faulty year simulated and ingested
def test_the_recorded_runs_results_and_flags_do_not_depend_on_the_chunks(faulty_raw):
    con = faulty_raw
    check_all_raw(con, run_id="whole", as_of=AS_OF, chunk_rows=None)
    check_all_raw(con, run_id="chunked", as_of=AS_OF, chunk_rows=CHUNK)

    def recorded(sql: str, run_id: str) -> pd.DataFrame:
        return con.execute(sql, [run_id]).df()

    runs = (
        "select suite, batch_label, success, checks, blocking_failures, warnings, rows_validated, records_flagged "
        "from audit.dq_runs where run_id = ? order by suite"
    )
    results = (
        "select suite, check_number, expectation, column_name, row_condition, severity, success, element_count, "
        "unexpected_count, unexpected_percent, observed_value, sample, exception "
        "from audit.dq_results where run_id = ? order by suite, check_number"
    )
    flags = (
        "select suite, check_number, expectation, severity, key, value, service_id, _source_file, _source_row, "
        "_batch_id from audit.dq_record_flags where run_id = ? order by all"
    )
    for sql in (runs, results, flags):
        pd.testing.assert_frame_equal(recorded(sql, "chunked"), recorded(sql, "whole"))
    assert len(recorded(flags, "whole")) > 100


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_mart_suites_in_chunks_give_the_whole_frames_results(marts_con):
    marts_con.execute("update marts.rpt_kpi_monthly set value = 120 where kpi_month_sk = 'PCT|S-ST1|2026-10-01'")
    marts_con.execute("update marts.rpt_kpi_monthly set numerator = -1 where kpi_month_sk = 'INC|S-ST2|2026-09-01'")
    marts_con.execute(
        "insert into marts.rpt_kpi_monthly select * from marts.rpt_kpi_monthly where kpi_month_sk = 'INC|S|2026-10-01'"
    )
    marts_con.execute("delete from marts.rpt_kpi_monthly where kpi_code = 'PCT' and org_level = 'group'")
    wholes = []
    for suite in mart_suites(dt.date(2026, 11, 1)):
        whole = validate(suite, load_frame(marts_con, suite), run_id="r", batch_label="as of 2026-11-01")
        chunked = validate_suite(marts_con, suite, run_id="r", batch_label="as of 2026-11-01", chunk_rows=3)
        assert comparable(chunked) == comparable(whole), suite.name
        assert len(chunk_notes(chunked)) == (whole.rows > 3), suite.name
        wholes.append(whole)
    assert sum(not c.success for w in wholes for c in w.checks) >= 5
    gate = check_marts(marts_con, run_id="m", as_of=dt.date(2026, 11, 1), chunk_rows=3)
    assert blocking_messages(gate) == blocking_messages(wholes) and blocking_messages(gate)


@pytest.mark.slow  # GX validation: over 0.7 s of CPU
def test_every_kind_of_check_in_chunks_of_a_few_rows():
    """The runner's own mixed suite: conditions on a null service, a condition no row meets,
    extremes under a condition, strict and inclusive row counts, checks naming absent columns."""
    con = duckdb.connect()
    con.register("mixed_rows", mixed_frame(200))
    base = mixed_suite()
    suite = Suite(
        base.name,
        base.target,
        base.checks,
        base.key_columns,
        query="select * from mixed_rows",
        order_by=("_source_row",),
    )
    whole = validate(suite, load_frame(con, suite), run_id="r", batch_label="b")
    for rows in (1, 7, 64, 1000):
        chunked = validate_suite(con, suite, run_id="r", batch_label="b", chunk_rows=rows)
        assert comparable(chunked) == comparable(whole), rows
    assert {c.number for c in whole.checks if not c.success} >= {4, 7, 9, 10, 11, 13, 18, 19, 20}


def test_chunks_keep_equal_keys_together_and_cover_every_row_once():
    con = duckdb.connect()
    con.execute(
        "create table t as select range as n, "
        "case when range < 60 then 'same' else 'k' || range end as k, "
        "case when range < 60 then '0' else (range % 5)::varchar end as s from range(500)"
    )
    suite = Suite("t", "t", [], ["k"], query="select * from t", order_by=("n",), chunk_by=("s",))
    chunks = list(read_chunks(con, suite, rows=7, together=("s", "k")))
    assert sorted(n for c in chunks for n in c["n"]) == list(range(500))
    holding = [i for i, c in enumerate(chunks) for k in c["k"] if k == "same"]
    assert len(set(holding)) == 1 and len(holding) == 60  # one chunk holds all 60 repeats of a key
    assert {len(c) for c in chunks[:-1] if "same" not in set(c["k"])} == {7}
    assert list(pd.concat(chunks)["s"]) == sorted(pd.concat(chunks)["s"])  # chunk_by first: services together
    (empty,) = read_chunks(con, Suite("t", "t", [], ["k"], query="select * from t where false"), rows=7)
    assert list(empty.columns) == ["n", "k", "s"] and empty.empty


def test_which_suites_can_be_chunked():
    def suite(*checks: Check) -> Suite:
        return Suite("s", "t", list(checks), ["a"])

    unique_ab = Check("ExpectCompoundColumnsToBeUnique", {"column_list": ["a", "b"]}, "blocking", "")
    unique_b = Check("ExpectColumnValuesToBeUnique", {"column": "b"}, "blocking", "")
    unique_c = Check("ExpectColumnValuesToBeUnique", {"column": "c"}, "blocking", "")
    not_null = Check("ExpectColumnValuesToNotBeNull", {"column": "a"}, "blocking", "")
    mean = Check("ExpectColumnMeanToBeBetween", {"column": "a", "min_value": 0}, "warning", "")
    assert chunk_key(suite(not_null)) == ()
    assert chunk_key(suite(unique_ab, not_null)) == ("a", "b")
    assert chunk_key(suite(unique_ab, unique_b)) == ("b",)
    assert chunk_key(suite(unique_b, unique_c)) is None  # no column shared: the whole frame at once
    assert chunk_key(suite(not_null, mean)) is None  # a mean cannot be combined over chunks
    assert chunk_key(mixed_suite()) == ("service_id", "id")
