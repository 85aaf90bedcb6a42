"""Suites for raw source tables, run on each landed batch before the data reaches any mart.

``raw_suites(con, table, batch_ids)`` builds one suite for the rows of ``raw.<table>`` that the
given ingestion batches loaded. It has two parts:

* generic checks derived from the table's contract (``orchestration.ingestion.contracts`` or
  ``real_data.REAL_ENTITIES``), so every raw entity is covered: columns present, mandatory fields,
  closed code lists, numeric ranges, key uniqueness, timestamp sequence and elapsed bounds, dates
  not in the future and inside the file's month, reference codes known (for the record's own
  service, as the ingestion engine checks them), freshness of the table (the expected period arrived) and the
  batch's volume against the same table's previous periods;
* per-system checks that row rules cannot express: mobilising response components within
  plausible bounds, incidents and mobilisations referring to each other, staff keys in absence,
  case and competence records known in the HR staff extract, appliance and station references
  between reference tables, and date pairs in order.

The ingestion engine already quarantines rows that break the contract, so on clean data the
contract checks pass; they are the declarative, recorded re-check (defence in depth). Runtime
values (code sets, the expected period, volume bands) are read from the warehouse here, when the
suite is built. Cross-table checks compare with ``raw_current`` (the latest delivery of each
period), so run the raw suites after the whole ingestion step.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
import statistics
from collections.abc import Iterable, Sequence

import duckdb

from expectations.suites.base import Check, Suite, quote, sql_literal
from orchestration.ingestion.contracts import ENTITIES, Entity
from orchestration.ingestion.engine import LINEAGE_DDL
from orchestration.ingestion.validate import stored_name

# A month's row count outside [low x, high x] the median of the previous periods is a warning.
VOLUME_BAND: tuple[float, float] = (0.5, 1.5)
VOLUME_HISTORY = 12  # previous periods the median is taken over
VOLUME_MIN_HISTORY = 3  # fewer previous periods than this: no volume check
# Tables whose rows accumulate during their period (quarterly updates within a financial year):
# an incomplete current period is not comparable with complete earlier ones.
ACCUMULATING = frozenset({"planner__activity_updates"})

# Plausible bounds (seconds) for mobilising response components. The contract only bounds the
# total at 0..3600 s; these are warnings. (derived column, start, end, low, high, first appliance only)
RESPONSE_COMPONENTS: tuple[tuple[str, str, str, float, float, bool], ...] = (
    ("_dq_call_handling_s", "call_received_at", "mobilised_at", 5, 1800, True),
    ("_dq_turnout_s", "mobilised_at", "mobile_at", 10, 900, False),
    ("_dq_drive_s", "mobile_at", "in_attendance_at", 30, 3600, False),
    # Home Office response-time analysis excludes totals under one minute or over one hour.
    ("_dq_response_s", "call_received_at", "in_attendance_at", 60, 3600, True),
)
# First-pump attendance times carried by real incident extracts (LFB): same Home Office bounds.
ATTENDANCE_BOUNDS: tuple[float, float] = (60, 3600)

# Date pairs that must be in order; the contracts do not enforce these, so they are warnings.
DATE_ORDER: dict[str, tuple[tuple[str, str], ...]] = {
    "hr__staff": (("leave_date", "start_date"),),
    "hr__absences": (("end_date", "start_date"),),
    "hr__cases": (("closed_date", "opened_date"),),
    "competence__records": (("expiry_date", "achieved_date"),),
    "reference__stations": (("valid_to", "valid_from"),),
}

# References between tables beyond the contracts' known codes, checked per service:
# (table, column, reference table, reference column, severity).
EXTRA_REFERENCES: tuple[tuple[str, str, str, str, str], ...] = (
    ("hr__absences", "staff_key", "hr__staff", "staff_key", "blocking"),
    ("hr__cases", "staff_key", "hr__staff", "staff_key", "blocking"),
    ("competence__records", "staff_key", "hr__staff", "staff_key", "blocking"),
    ("reference__wards", "station_id", "reference__stations", "station_id", "blocking"),
    ("reference__appliances", "station_id", "reference__stations", "station_id", "blocking"),
    ("mobilising__mobilisations", "appliance_id", "reference__appliances", "appliance_id", "warning"),
    ("availability__oncall_availability", "appliance_id", "reference__appliances", "appliance_id", "warning"),
)


def all_entities() -> tuple[Entity, ...]:
    """Every contract that lands in a raw table: source systems, real public data, the app store."""
    from orchestration.ingestion.real_data import REAL_ENTITIES

    found: list[Entity] = [*ENTITIES, *REAL_ENTITIES]
    try:  # the app's commentary store is ingested like a source where the pipeline has it
        from orchestration.ingestion.app_store import COMMENTARY_ENTITY  # type: ignore[attr-defined]

        found.append(COMMENTARY_ENTITY)
    except (ImportError, AttributeError):
        pass
    return tuple(found)


def contract_for(table: str) -> Entity:
    """The contract of ``raw.<table>`` (``table`` with or without the ``raw.`` prefix)."""
    name = table.removeprefix("raw.")
    for e in all_entities():
        if e.table == name:
            return e
    raise KeyError(f"no contract for raw table {name!r}")


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Raw tables present in the warehouse that have a contract."""
    present = {
        r[0]
        for r in con.execute("select table_name from information_schema.tables where table_schema = 'raw'").fetchall()
    }
    return [e.table for e in all_entities() if e.table in present]


def current_batches(con: duckdb.DuckDBPyConnection, table: str) -> list[int]:
    """Batch ids whose rows are current (the latest delivery of each period) in ``raw_current``."""
    return [int(r[0]) for r in con.execute(f"select distinct _batch_id from raw_current.{table} order by 1").fetchall()]


def expected_period(entity: Entity, as_of: dt.date) -> dt.date:
    """The start of the period that should have arrived by ``as_of``.

    Month M is delivered during month M+1, so by ``as_of`` the previous calendar month is due:
    a monthly table must hold it, a snapshot must be extracted on or after its first day and an
    Annual Plan must cover the financial year that month falls in.
    """
    first = as_of.replace(day=1)
    month = (first - dt.timedelta(days=1)).replace(day=1)
    if entity.delivery == "financial_year":
        return dt.date(month.year if month.month >= 4 else month.year - 1, 4, 1)
    return month


def _period_start_sql(entity: Entity, expr: str) -> str:
    """SQL turning a ``_period`` text (``YYYY-MM``, ``YYYY-MM-DD`` or ``FYYYYY-YY``) into its start."""
    if entity.delivery == "monthly":
        return f"cast(try_strptime({expr} || '-01', '%Y-%m-%d') as date)"
    if entity.delivery == "financial_year":
        return f"cast(try_strptime(substr({expr}, 3, 4) || '-04-01', '%Y-%m-%d') as date)"
    return f"cast(try_strptime({expr}, '%Y-%m-%d') as date)"


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def _in_list(column: str, values: Iterable[str | None]) -> str:
    """SQL: ``column`` is one of ``values`` (a None among them matches nulls); false for none."""
    values = list(values)
    named = sorted({v for v in values if v is not None})
    parts = [f"{column} in ({', '.join(sql_literal(v) for v in named)})"] if named else []
    if any(v is None for v in values):
        parts.append(f"{column} is null")
    return f"({' or '.join(parts)})" if parts else "false"


def _service_label(service: str | None) -> str:
    return "no service" if service is None else f"service {service}"


class _SuiteBuilder:
    """Collects checks, derived columns (SQL expressions over ``t``) and joins for one raw suite."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        entity: Entity,
        services: Sequence[str | None],
        delivery_keys: Sequence[str | None] = (),
        periods: Sequence[str | None] | None = None,
    ):
        self.con = con
        self.entity = entity
        self.table = entity.table
        self.services = list(services)
        # Filters on raw_current's partition columns (service, delivery key) limited to the validated
        # rows': DuckDB applies them before the view's ranking window, so a few batches cost a few
        # partitions' ranking rather than the whole table's (several times per suite).
        self.of_services = _in_list("service_id", self.services)
        self.of_deliveries = f"{self.of_services} and {_in_list('_delivery_key', delivery_keys)}"
        # For lookups joined on the period too (one system's records against another's): only the
        # validated periods, so a close reads one month of the other system, not ten years.
        self.of_periods = "true" if periods is None else _in_list("_period", periods)
        self.checks: list[Check] = []
        self.derived: list[str] = []
        self.joins: list[str] = []
        self.notes: list[str] = []

    def add(self, expectation: str, severity: str, description: str, where: dict | None = None, **kwargs) -> None:
        self.checks.append(Check(expectation, kwargs, severity, description, where))  # type: ignore[arg-type]

    def derive(self, name: str, expression: str) -> None:
        self.derived.append(f"{expression} as {quote(name)}")

    def join(self, clause: str) -> None:
        self.joins.append(clause)

    def known_codes(self, column: str, ref_table: str, ref_column: str, severity: str, why: str) -> None:
        """``column`` holds a code of ``ref_table.ref_column`` current for the record's own service.

        One check per column, not one per service: the validated rows are joined in SQL to their
        service's current codes, and a derived column holds the code of each record whose service
        has reference rows but not that code. GX copies an expectation's arguments through pydantic
        about a hundred times per validation, so a value set per service (thousands of staff keys,
        for 44 services) cost most of a national close's raw gate. The failing value is still the
        unknown code, and each flagged record carries its service.
        """
        derived = f"_dq_unknown_{column}"
        counts: dict[str | None, int] = {}
        if _exists(self.con, "raw_current", ref_table):
            counts = dict(
                self.con.execute(
                    f"select service_id, count(distinct {quote(ref_column)}) from raw_current.{ref_table} "
                    f"where {self.of_services} and {quote(ref_column)} is not null group by service_id"
                ).fetchall()
            )
        for service in self.services:
            if service not in counts:
                self.notes.append(
                    f"{column} not checked against {ref_table}.{ref_column} for {_service_label(service)}: "
                    "it has no reference rows"
                )
        if not counts:
            return
        alias = f"_ref{len(self.joins)}"
        self.join(
            f"left join (select distinct service_id, {quote(ref_column)} as _code from raw_current.{ref_table} "
            f"where {self.of_services} and {quote(ref_column)} is not null) as {alias} "
            f"on {alias}.service_id is not distinct from t.service_id and {alias}._code = t.{quote(column)}"
        )
        checked = _in_list("t.service_id", counts)
        self.derive(derived, f"case when {checked} and {alias}._code is null then t.{quote(column)} end")
        self.add(
            "ExpectColumnValuesToBeNull",
            severity,
            f"{column} is a {ref_column} known in {ref_table} for the record's own service "
            f"({sum(counts.values()):,} codes of {len(counts)} service(s)){why} (value: the unknown {column})",
            column=derived,
        )


def _contract_checks(b: _SuiteBuilder) -> None:
    e = b.entity
    stored = {c.name: stored_name(c) for c in e.loaded_columns}
    key = [stored[k] for k in e.key]
    lineage_present = [name for name, _ in LINEAGE_DDL]
    b.add(
        "ExpectTableColumnsToMatchSet",
        "blocking",
        "every contract column and lineage column is present",
        column_set=sorted({*stored.values(), *lineage_present}),
        exact_match=False,
    )
    for c in e.loaded_columns:
        name = stored[c.name]
        if c.required or c.name in e.key:
            b.add("ExpectColumnValuesToNotBeNull", "blocking", f"mandatory field {name} is filled", column=name)
        if c.allowed is not None:
            b.add(
                "ExpectColumnValuesToMatchRegex",
                "blocking",
                f"{name} is one of the contract's codes ({', '.join(c.allowed)}; case and edge spaces ignored, "
                "as at ingestion)",
                column=name,
                regex=code_regex(c.allowed),
            )
        if c.minimum is not None or c.maximum is not None:
            bounds = {k: v for k, v in (("min_value", c.minimum), ("max_value", c.maximum)) if v is not None}
            b.add(
                "ExpectColumnValuesToBeBetween",
                "blocking",
                f"{name} within the contract's range {_range_text(c.minimum, c.maximum)}",
                column=name,
                **bounds,
            )
    # Rows of a superseded delivery (an earlier revision of the same period) legitimately repeat
    # keys, so uniqueness is judged among the validated rows that are current.
    b.join(
        f"left join (select distinct _batch_id from raw_current.{b.table} where {b.of_deliveries}) as _cur "
        "on _cur._batch_id = t._batch_id"
    )
    b.derive("_dq_current", "_cur._batch_id is not null")
    b.add(
        "ExpectCompoundColumnsToBeUnique",
        "blocking",
        f"key ({', '.join(key)}) is unique within the service among the validated rows that are current",
        where={"_dq_current": True},
        column_list=["service_id", *key],
    )
    for later_pos, later in enumerate(e.sequence):
        for earlier in e.sequence[:later_pos]:
            b.add(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                "blocking",
                f"timestamps in sequence: {later} not before {earlier}",
                column_A=later,
                column_B=earlier,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
    if e.elapsed_bounds:
        start, end, lo, hi = e.elapsed_bounds
        b.derive("_dq_elapsed_s", f"epoch(t.{quote(end)}) - epoch(t.{quote(start)})")
        b.add(
            "ExpectColumnValuesToBeBetween",
            "blocking",
            f"seconds from {start} to {end} within the contract's {lo:g}..{hi:g} s",
            column="_dq_elapsed_s",
            min_value=lo,
            max_value=hi,
        )
    for name in e.not_future:
        b.add(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            "blocking",
            f"{name} is not in the future (not after the batch's load time)",
            column_A="_loaded_at",
            column_B=name,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
    if e.delivery == "monthly" and e.period_column:
        col = e.period_column
        start = "try_strptime(t._period || '-01', '%Y-%m-%d')"
        b.derive("_dq_period_start", start)
        b.derive("_dq_period_end", f"{start} + interval 1 month")
        b.add(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            "blocking",
            f"{col} is not before the start of the file's month (_period)",
            column_A=col,
            column_B="_dq_period_start",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
        b.add(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            "blocking",
            f"{col} is before the end of the file's month (_period)",
            column_A="_dq_period_end",
            column_B=col,
            or_equal=False,
            ignore_row_if="either_value_is_missing",
        )
    for rule in e.known_codes:
        b.known_codes(
            stored.get(rule.column, rule.column),
            f"reference__{rule.ref_entity}",
            rule.ref_column,
            "blocking",
            " (contract rule)",
        )


def _freshness_and_volume(b: _SuiteBuilder, groups: Iterable[tuple], as_of: dt.date) -> None:
    e = b.entity
    periodic = sorted({g[0] for g in groups if g[1]}, key=lambda s: (s is None, s or ""))
    if periodic:
        expected = expected_period(e, as_of)
        b.join(
            f"left join (select service_id, max(_period) as _p from raw_current.{b.table} "
            f"where {b.of_services} and _period <> '' group by service_id) as _fresh "
            "on _fresh.service_id is not distinct from t.service_id"
        )
        b.derive("_dq_latest_period_start", _period_start_sql(e, "_fresh._p"))
        for service in periodic:
            b.add(
                "ExpectColumnMinToBeBetween",
                "warning",
                f"freshness: the table's latest {e.delivery.replace('_', ' ')} delivery for "
                f"{_service_label(service)} starts on or after {expected:%Y-%m-%d} (due by {as_of:%Y-%m-%d})",
                where={"service_id": service},
                column="_dq_latest_period_start",
                min_value=dt.datetime.combine(expected, dt.time()),
            )
    low, high = VOLUME_BAND
    volumes = None if b.table in ACCUMULATING else _period_volumes(b.con, b.table, groups)
    for service, period, batch in groups:
        if not period:
            continue
        if volumes is None:
            b.notes.append(
                f"volume of {_service_label(service)} {period} not checked: rows accumulate during the period"
            )
            continue
        history = _previous_volumes(volumes.get(service, []), period)
        if len(history) < VOLUME_MIN_HISTORY:
            b.notes.append(
                f"volume of {_service_label(service)} {period} not checked: {len(history)} previous period(s), "
                f"{VOLUME_MIN_HISTORY} needed"
            )
            continue
        median = statistics.median(n for _, n in history)
        b.add(
            "ExpectTableRowCountToBeBetween",
            "warning",
            f"volume: {_service_label(service)} {period} (batch {batch}) has {low:g}x..{high:g}x the median row count "
            f"({median:g}) of its previous {len(history)} periods",
            where={"service_id": service, "_period": period, "_batch_id": batch},
            min_value=math.ceil(low * median),
            max_value=math.floor(high * median),
        )


def _period_volumes(
    con: duckdb.DuckDBPyConnection, table: str, groups: Iterable[tuple]
) -> dict[str | None, list[tuple[str, int]]]:
    """Per service of ``groups``: (period, rows of the period's latest delivery), by period.

    One query for all groups: rows are counted per delivery (revision, batch) first and the latest
    delivery of each period picked from those counts, rather than ranking every row of the table
    once per validated period.
    """
    services = {g[0] for g in groups if g[1]}
    if not services:
        return {}
    named = sorted(s for s in services if s is not None)
    wanted = " or ".join(
        ([f"service_id in ({', '.join('?' for _ in named)})"] if named else [])
        + (["service_id is null"] if None in services else [])
    )
    rows = con.execute(
        f"""
        select service_id, _period, _rows from (
            select service_id, _period, _rows,
                   dense_rank() over (
                       partition by service_id, _period order by _revision desc, _batch_id desc
                   ) as _rank
            from (
                select service_id, _period, _revision, _batch_id, count(*) as _rows
                from raw.{table}
                where ({wanted}) and _period <> ''
                group by all
            )
        ) where _rank = 1
        order by service_id, _period
        """,
        named,
    ).fetchall()
    volumes: dict[str | None, list[tuple[str, int]]] = {}
    for service, period, count in rows:
        volumes.setdefault(service, []).append((period, int(count)))
    return volumes


def _previous_volumes(volumes: list[tuple[str, int]], period: str) -> list[tuple[str, int]]:
    """The latest ``VOLUME_HISTORY`` entries of ``volumes`` (sorted by period) before ``period``, newest first."""
    end = bisect.bisect_left(volumes, period, key=lambda v: v[0])
    return volumes[max(0, end - VOLUME_HISTORY) : end][::-1]


def _mobilising_checks(b: _SuiteBuilder) -> None:
    for name, start, end, lo, hi, first_only in RESPONSE_COMPONENTS:
        b.derive(name, f"epoch(t.{quote(end)}) - epoch(t.{quote(start)})")
        label = name.removeprefix("_dq_").removesuffix("_s").replace("_", " ")
        b.add(
            "ExpectColumnValuesToBeBetween",
            "warning",
            f"plausible {label} time: {lo:g}..{hi:g} s ({start} to {end})"
            + (", first appliance in attendance" if first_only else ""),
            where={"pump_order": 1} if first_only else None,
            column=name,
            min_value=lo,
            max_value=hi,
        )
    if _exists(b.con, "raw_current", "irs__incidents"):
        # Only where IRS holds the same service and period, so a system that has not delivered
        # the month yet is a freshness warning, not thousands of orphans.
        b.join(
            "left join (select distinct service_id, _period, incident_id from raw_current.irs__incidents "
            f"where {b.of_services} and {b.of_periods}) as _inc "
            "on _inc.service_id is not distinct from t.service_id and _inc._period = t._period "
            "and _inc.incident_id = t.incident_id"
        )
        b.join(
            "left join (select distinct service_id, _period from raw_current.irs__incidents "
            f"where {b.of_services} and {b.of_periods}) as _inc_p "
            "on _inc_p.service_id is not distinct from t.service_id and _inc_p._period = t._period"
        )
        b.derive(
            "_dq_incident_not_in_irs",
            "case when _inc_p._period is not null and _inc.incident_id is null then t.incident_id end",
        )
        b.add(
            "ExpectColumnValuesToBeNull",
            "warning",
            "every mobilisation's incident_id is an incident in IRS for the same service and period "
            "(value: the missing incident_id)",
            column="_dq_incident_not_in_irs",
        )
    else:
        b.notes.append("mobilisations not matched to incidents: raw_current.irs__incidents is absent")


def _incident_checks(b: _SuiteBuilder) -> None:
    lo, hi = ATTENDANCE_BOUNDS
    b.add(
        "ExpectColumnValuesToBeBetween",
        "warning",
        f"plausible first-pump attendance time from the source extract: {lo:g}..{hi:g} s",
        column="first_pump_attendance_seconds",
        min_value=lo,
        max_value=hi,
    )
    if _exists(b.con, "raw_current", "mobilising__mobilisations"):
        b.join(
            "left join (select distinct service_id, _period, incident_id from raw_current.mobilising__mobilisations "
            f"where {b.of_services} and {b.of_periods}) as _mob "
            "on _mob.service_id is not distinct from t.service_id and _mob._period = t._period "
            "and _mob.incident_id = t.incident_id"
        )
        b.join(
            "left join (select distinct service_id, _period from raw_current.mobilising__mobilisations "
            f"where {b.of_services} and {b.of_periods}) as _mob_p "
            "on _mob_p.service_id is not distinct from t.service_id and _mob_p._period = t._period"
        )
        b.derive(
            "_dq_no_response_record",
            "case when _mob_p._period is not null and _mob.incident_id is null "
            "and t.first_pump_attendance_seconds is null then t.incident_id end",
        )
        b.add(
            "ExpectColumnValuesToBeNull",
            "warning",
            "every incident has a mobilisation (or its own first-pump attendance time) for the same service "
            "and period (value: the incident_id without one)",
            column="_dq_no_response_record",
        )
    else:
        b.notes.append("incidents not matched to mobilisations: raw_current.mobilising__mobilisations is absent")


def _absence_checks(b: _SuiteBuilder) -> None:
    """A person's sickness spells do not overlap. Overlapping spells would count a day lost twice;
    the KPI counts each person-day once (int_absence_shifts_by_month), and this check flags every
    spell of an overlapping pair, naming the other, so an auditor sees what was counted once."""
    # Spells are compared with the whole current extract of the person's service, not only the
    # validated rows: a snapshot re-delivery can overlap a spell first delivered earlier.
    open_end = "coalesce({0}.end_date, date '9999-12-31')"
    valid = "({0}.end_date is null or {0}.end_date >= {0}.start_date)"
    b.join(
        "left join (select a.service_id, a.absence_id, "
        "string_agg(o.absence_id, ';' order by o.absence_id) as _overlapping_ids "
        "from raw_current.hr__absences as a inner join raw_current.hr__absences as o "
        "on o.service_id is not distinct from a.service_id and o.staff_key = a.staff_key "
        "and o.absence_id <> a.absence_id "
        f"and o.start_date <= {open_end.format('a')} and a.start_date <= {open_end.format('o')} "
        f"where {_in_list('a.service_id', b.services)} and {valid.format('a')} and {valid.format('o')} "
        "group by a.service_id, a.absence_id) as _ovl "
        "on _ovl.service_id is not distinct from t.service_id and _ovl.absence_id = t.absence_id"
    )
    b.derive("_dq_overlapping_spells", "_ovl._overlapping_ids")
    b.add(
        "ExpectColumnValuesToBeNull",
        "warning",
        "a person's sickness spells do not overlap; each day absent is counted once, for the spell that "
        "started first (value: the absence_id of every other spell of the same person that overlaps it)",
        column="_dq_overlapping_spells",
    )


def raw_suites(
    con: duckdb.DuckDBPyConnection,
    table: str,
    batch_ids: Iterable[int],
    *,
    as_of: dt.date | None = None,
) -> Suite:
    """The suite for the rows of ``raw.<table>`` loaded by ``batch_ids``.

    ``as_of`` (default today) is when the data is judged: freshness expects the previous month.
    Validate the frame from ``expectations.suites.load_frame(con, suite)``.
    """
    entity = contract_for(table)
    ids = sorted({int(b) for b in batch_ids})
    if not ids:
        raise ValueError(f"raw_suites({entity.table}): no batch ids given")
    as_of = as_of or dt.date.today()
    in_batches = f"t._batch_id in ({', '.join(str(i) for i in ids)})"
    # (service, period, latest validated batch of that period): re-deliveries of a period in the
    # same validation are judged by their latest batch.
    groups = con.execute(
        f"select service_id, _period, max(_batch_id) from raw.{entity.table} as t "
        f"where {in_batches} group by all order by 1 nulls last, 2"
    ).fetchall()
    services = sorted({g[0] for g in groups}, key=lambda s: (s is None, s or ""))
    delivery_keys = con.execute(
        f"select distinct _delivery_key from raw.{entity.table} as t where {in_batches}"
    ).fetchall()
    b = _SuiteBuilder(con, entity, services, [r[0] for r in delivery_keys], sorted({g[1] for g in groups}, key=str))

    _contract_checks(b)
    for later, earlier in DATE_ORDER.get(entity.table, ()):
        b.add(
            "ExpectColumnPairValuesAToBeGreaterThanB",
            "warning",
            f"dates in order: {later} not before {earlier}",
            column_A=later,
            column_B=earlier,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
    for tbl, column, ref_table, ref_column, severity in EXTRA_REFERENCES:
        if tbl == entity.table:
            b.known_codes(column, ref_table, ref_column, severity, "")
    if entity.table == "mobilising__mobilisations":
        _mobilising_checks(b)
    if entity.table == "irs__incidents":
        _incident_checks(b)
    if entity.table == "hr__absences":
        if _exists(b.con, "raw_current", "hr__absences"):
            _absence_checks(b)
        else:
            b.notes.append("absence spells not checked for overlaps: raw_current.hr__absences is absent")
    _freshness_and_volume(b, groups, as_of)

    derived = "".join(f", {d}" for d in b.derived)
    query = f"select t.*{derived} from raw.{entity.table} as t {' '.join(b.joins)} where {in_batches}"
    key = [stored_name(entity.column(k)) for k in entity.key]
    if not groups:
        b.notes.append(f"batches {ids} hold no rows of raw.{entity.table}")
    return Suite(
        name=f"raw.{entity.table}",
        target=f"raw.{entity.table}",
        checks=b.checks,
        key_columns=key,
        query=query,
        notes=b.notes,
        # A batch can hold several files: the file orders rows with the same row number.
        order_by=("_batch_id", "_source_file", "_source_row"),
        chunk_by=("service_id",),
    )


# Python's ``\s``: the characters ``str.isspace`` (and so ``str.strip``) knows, spelled out. Pyarrow's
# RE2 reads ``\s`` as ASCII white space only, so pandas runs a pattern with ``\s`` as a Python loop
# (about 1.5 s per million values: most of a national incident table's contract checks) and one
# without it in pyarrow. Control characters as ``\xhh``, which both engines read; the others as
# themselves (RE2 has no ``\uhhhh``).
WHITE_SPACE = (
    "[\\x09\\x0a\\x0b\\x0c\\x0d\\x1c\\x1d\\x1e\\x1f\\x20"
    "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000]"
)
# Letters whose case-insensitive match differs between the engines: Python's ``(?i)i`` also matches
# the Turkish dotted and dotless i, RE2's does not.
_FOLDS = {"i": "[i\u0130\u0131]", "I": "[i\u0130\u0131]"}


def code_regex(allowed: Iterable[str]) -> str:
    r"""A pattern matching one of ``allowed`` whatever its case and surrounding white space, meaning the
    same in Python's ``re`` and pyarrow's RE2 (so pandas runs it in pyarrow): what
    ``(?i)^\s*(?:a|b)\s*$`` means in Python (``\Z`` for ``$``: a trailing newline is white space)."""
    alternatives = "|".join("".join(_FOLDS.get(ch, re.escape(ch)) for ch in a) for a in allowed)
    return rf"(?i)^{WHITE_SPACE}*(?:{alternatives}){WHITE_SPACE}*\Z"


def _range_text(lo: float | None, hi: float | None) -> str:
    return f"{'' if lo is None else f'{lo:g}'}..{'' if hi is None else f'{hi:g}'}"


__all__ = [
    "ATTENDANCE_BOUNDS",
    "DATE_ORDER",
    "EXTRA_REFERENCES",
    "RESPONSE_COMPONENTS",
    "VOLUME_BAND",
    "all_entities",
    "code_regex",
    "contract_for",
    "current_batches",
    "expected_period",
    "raw_suites",
    "raw_tables",
]
