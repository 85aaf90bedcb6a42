"""What ``make pipeline`` prints: one line per stage (or source system) as it finishes, with times,
and Dagster's own event log (every DEBUG/INFO event, dbt's raw output) in a file instead.

``RunProgress`` turns Dagster events into those lines and is fed by a Dagster logger
(``progress_logger``); ``run_logging`` sends everything else to ``data/logs/pipeline-<time>.log``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR

# Step keys of the pipeline job -> the stage name a data engineer reads. Ingestion steps not listed
# here are named from their op (``ingest_irs`` -> ``ingest irs``).
STAGES = {
    "close__monthly_deliveries": "close",
    "ingest_real_public_data": "ingest real data",
    "raw__app__commentary": "ingest app",
    "quality__raw_batches_validated": "raw gate",
    "golden_thread_dbt": "dbt",
    "quality__marts_validated": "mart gate",
    "serving__serving_database": "publish",
}
DBT_STEP = "golden_thread_dbt"
# At most one dbt progress line per this many seconds: a build prints a handful, not 500.
DBT_PROGRESS_EVERY_S = 15.0

# (status, has quarantined rows, files, rows received, rows loaded, rows quarantined) per group of
# this run's files in the tables a step wrote: see ``ingestion_counts``.
FileCounts = Sequence[tuple[str, bool, int, int, int, int]]


def stage_name(step_key: str) -> str:
    if step_key in STAGES:
        return STAGES[step_key]
    if step_key.startswith("ingest_"):
        return "ingest " + step_key.removeprefix("ingest_")
    return step_key


def metadata_values(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """Dagster metadata as plain values (``IntMetadataValue(3)`` -> 3)."""
    return {k: getattr(v, "value", v) for k, v in (metadata or {}).items()}


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def root_cause(event: DagsterEvent) -> str:
    """The first line of the innermost error of a failed step (not Dagster's wrapper around it)."""
    error = event.step_failure_data.error
    while error is not None and error.cause is not None:
        error = error.cause
    if error is None or not error.message:
        return "failed"
    message = error.message.strip()
    # "orchestration.ingestion.engine.IngestionError: ..." -> "IngestionError: ..."; a dg.Failure is
    # the step's own description.
    cls_name = getattr(error, "cls_name", None) or ""
    prefix, sep, rest = message.partition(f"{cls_name}: ")
    if cls_name and sep and (prefix == "" or (prefix.endswith(".") and " " not in prefix)):
        message = rest if cls_name == "Failure" else f"{cls_name}: {rest}"
    return message


def describe_ingestion(counts: FileCounts, files_skipped: int) -> str:
    """``3 files: 2 loaded, 1 with quarantined rows, 1 refused; rows 9 received = 8 loaded + 1
    quarantined; 40 unchanged`` from this run's files, whatever statuses they have."""
    by_status: dict[str, int] = {}
    received = loaded = quarantined = 0
    for status, has_quarantine, files, rec, load, quar in counts:
        label = "with quarantined rows" if status == "loaded" and has_quarantine else status
        by_status[label] = by_status.get(label, 0) + files
        received, loaded, quarantined = received + rec, loaded + load, quarantined + quar
    unchanged = f"{files_skipped:,} unchanged" if files_skipped else ""
    if not by_status:
        return f"nothing new ({unchanged or 'no files'})"
    first = [s for s in ("loaded", "with quarantined rows") if s in by_status]
    parts = [f"{by_status[s]:,} {s}" for s in first + sorted(set(by_status) - set(first))]
    line = (
        f"{plural(sum(by_status.values()), 'file')}: {', '.join(parts)}; "
        f"rows {received:,} received = {loaded:,} loaded + {quarantined:,} quarantined"
    )
    return f"{line}; {unchanged}" if unchanged else line


def describe_gate(materialized: Mapping[str, Any], check: Mapping[str, Any], passed: bool | None) -> str:
    if materialized.get("tables_validated") == 0 and passed:
        return "no new batch to check"
    what = (
        plural(materialized["tables_validated"], "table")
        if "tables_validated" in materialized
        else plural(materialized.get("suites", check.get("suites", 0)), "suite")
    )
    scope = {"": "", "all": " (every month)"}.get(materialized.get("scope", ""), f" ({materialized.get('scope')})")
    verdict = "passed" if passed else "BLOCKED" if passed is False else "no result"
    return (
        f"{what}{scope} {verdict}: {plural(check.get('blocking_failures', 0), 'blocking failure')}, "
        f"{plural(check.get('warnings', 0), 'warning')}, {plural(check.get('records_flagged', 0), 'record')} flagged"
    )


def describe_close(materialized: Mapping[str, Any], missing: int | None) -> str:
    first, last = materialized.get("first_month", "?"), materialized.get("last_month", "?")
    months = first if first == last else f"{first} to {last}"
    missing = missing if missing is not None else materialized.get("missing_monthly_extracts", 0)
    return (
        f"{months} (cut-off {materialized.get('as_of', '?')}), "
        f"{plural(materialized.get('services_delivering', 0), 'service')} delivering, "
        + (f"{plural(missing, 'monthly extract')} not yet delivered" if missing else "every monthly extract delivered")
    )


def describe_publish(materialized: Mapping[str, Any]) -> str:
    how = {k.removeprefix("tables_"): v for k, v in materialized.items() if k.startswith("tables_") and v}
    on_top = materialized.get("built_on_top_of")
    detail = (
        f"on top of run {on_top[:8]}: " + ", ".join(f"{n} {h.replace('_', ' ')}" for h, n in how.items())
        if on_top
        else "built whole"
    )
    return f"serving.duckdb, {plural(materialized.get('tables', 0), 'table')} ({detail})"


@dataclass
class _Step:
    started: float
    materialized: dict[str, Any] = field(default_factory=dict)
    by_asset: dict[str, dict[str, Any]] = field(default_factory=dict)  # last name of the key -> metadata
    check_passed: bool | None = None
    check: dict[str, Any] = field(default_factory=dict)
    dbt_nodes: dict[str, str] = field(default_factory=dict)  # unique_id -> status
    last_progress: float = 0.0


class RunProgress:
    """Turns one run's Dagster events into the console lines. ``ingestion_counts(run_id, tables)``
    returns the run's files in those raw tables (``FileCounts``); ``dbt_total`` is the number of dbt nodes
    the build reports on (models, seeds, snapshots and tests)."""

    def __init__(
        self,
        out: TextIO,
        ingestion_counts: Callable[[str | None, Sequence[str]], FileCounts] = lambda run_id, tables: [],
        dbt_total: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out, self.ingestion_counts, self.dbt_total, self.clock = out, ingestion_counts, dbt_total, clock
        self.started = clock()
        self.steps: dict[str, _Step] = {}
        self.failed: list[str] = []
        self.run_id: str | None = None

    def line(self, stage: str, detail: str, seconds: float | None = None) -> None:
        took = f"  ({seconds:.1f} s)" if seconds is not None else ""
        self.out.write(f"{self.clock() - self.started:7.1f} s  {stage:<19} {detail}{took}\n")
        self.out.flush()

    def handle(
        self, step_key: str | None, event: DagsterEvent | None, level: int = logging.DEBUG, message: str = ""
    ) -> None:
        if event is None:
            # Dagster's only word on a step it does not run (an upstream step failed) is an error
            # message for a step that never started.
            if step_key and step_key not in self.steps and level >= logging.ERROR:
                self.steps[step_key] = _Step(started=self.clock())
                self.line(stage_name(step_key), "not run: a step it depends on failed")
            # A step's warnings are meant for a person (a missing folder, a forced full rebuild).
            elif step_key and level == logging.WARNING and message.strip():
                self.line(stage_name(step_key), "warning: " + message.strip().splitlines()[0])
            return
        kind = event.event_type
        if kind == DagsterEventType.RUN_START:
            self.line("run", f"started: {event.job_name}, run {self.run_id or ''}".rstrip())
        elif kind == DagsterEventType.RUN_SUCCESS:
            self.line("run", "succeeded")
        elif kind == DagsterEventType.RUN_FAILURE:
            failed = ", ".join(stage_name(k) for k in self.failed)
            self.line("run", f"FAILED ({failed})" if failed else "FAILED")
        if step_key is None:
            return
        if kind == DagsterEventType.STEP_START:
            self.steps[step_key] = _Step(started=self.clock(), last_progress=self.clock())
            if step_key == DBT_STEP:
                total = f"{self.dbt_total:,} " if self.dbt_total else ""
                self.line("dbt", f"building {total}nodes (models, seeds and tests)")
            return
        step = self.steps.setdefault(step_key, _Step(started=self.clock()))
        if kind == DagsterEventType.ASSET_MATERIALIZATION:
            self._materialized(step_key, step, event)
        elif kind == DagsterEventType.ASSET_OBSERVATION and step_key == DBT_STEP:
            meta = metadata_values(event.asset_observation_data.asset_observation.metadata)
            self._dbt_node(step, meta)
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            passed = evaluation.passed if step.check_passed is None else step.check_passed and evaluation.passed
            step.check_passed = passed
            step.check = metadata_values(evaluation.metadata)
        elif kind == DagsterEventType.STEP_SUCCESS:
            self.line(stage_name(step_key), self.describe(step_key, step), self.clock() - step.started)
        elif kind == DagsterEventType.STEP_FAILURE:
            self.failed.append(step_key)
            detail = self.describe(step_key, step) if step.by_asset or step.dbt_nodes or step.check else ""
            self.line(
                stage_name(step_key),
                f"FAILED: {root_cause(event).splitlines()[0]}" + (f" [{detail}]" if detail else ""),
                self.clock() - step.started,
            )
        elif kind == DagsterEventType.STEP_SKIPPED:
            self.line(stage_name(step_key), "not run: a step before it failed")

    def _materialized(self, step_key: str, step: _Step, event: DagsterEvent) -> None:
        materialization = event.step_materialization_data.materialization
        meta = metadata_values(materialization.metadata)
        if step_key == DBT_STEP:
            self._dbt_node(step, meta)
            return
        # A multi-asset step (one system's raw tables) sums its assets' counts; a partitioned asset
        # (the close, one event per month) keeps its last event's.
        step.by_asset[materialization.asset_key.path[-1]] = meta
        step.materialized = {}
        for values in step.by_asset.values():
            for key, value in values.items():
                if isinstance(value, int | float) and not isinstance(value, bool) and key in step.materialized:
                    step.materialized[key] += value
                else:
                    step.materialized[key] = value

    def _dbt_node(self, step: _Step, meta: Mapping[str, Any]) -> None:
        unique_id = meta.get("unique_id")
        if not unique_id:
            return
        status = str(meta.get("status") or "success")
        # A test on two models is observed once per model; a failure on either counts.
        if step.dbt_nodes.get(unique_id) not in (None, "success", "pass"):
            status = step.dbt_nodes[unique_id]
        step.dbt_nodes[unique_id] = status
        now = self.clock()
        if now - step.last_progress >= DBT_PROGRESS_EVERY_S:
            step.last_progress = now
            total = f"/{self.dbt_total:,}" if self.dbt_total else ""
            self.line("dbt", f"{len(step.dbt_nodes):,}{total} nodes")

    def describe(self, step_key: str, step: _Step) -> str:
        if step_key == DBT_STEP:
            return self.describe_dbt(step)
        meta = step.materialized
        stage = stage_name(step_key)
        if stage == "close":
            return describe_close(meta, step.check.get("missing"))
        if stage.startswith("ingest"):
            return describe_ingestion(
                self.ingestion_counts(self.run_id, sorted(step.by_asset)), int(meta.get("files_skipped", 0))
            )
        if stage.endswith("gate"):
            return describe_gate(meta, step.check, step.check_passed)
        if stage == "publish":
            return describe_publish(meta)
        return ", ".join(f"{k} {v}" for k, v in meta.items() if isinstance(v, int | float | str))

    def describe_dbt(self, step: _Step) -> str:
        kinds: dict[str, int] = {}
        for unique_id in step.dbt_nodes:
            kind = unique_id.split(".", 1)[0]
            kinds[kind] = kinds.get(kind, 0) + 1
        total = f"/{self.dbt_total:,}" if self.dbt_total else ""
        parts = [plural(n, k) for k, n in sorted(kinds.items())]
        not_ok = {s for s in step.dbt_nodes.values() if s not in ("success", "pass")}
        for status in sorted(not_ok):
            parts.append(f"{sum(s == status for s in step.dbt_nodes.values())} {status}")
        return f"{len(step.dbt_nodes):,}{total} nodes: " + ", ".join(parts)


def ingestion_counts(warehouse_path: Path, run_id: str | None, tables: Sequence[str]) -> FileCounts:
    """``FileCounts`` of the run's files in ``tables``, read when the step that wrote them has
    finished and closed its connection (steps run one at a time in this process)."""
    from orchestration.warehouse import connect

    if not tables or run_id is None:
        return []
    with connect(warehouse_path, read_only=True) as con:
        return con.execute(
            "select status, rows_quarantined > 0, count(*), sum(rows_received), sum(rows_loaded), "
            "sum(rows_quarantined) from audit.ingestion_log "
            f"where run_id = ? and raw_table in ({', '.join('?' * len(tables))}) group by all",
            [run_id, *tables],
        ).fetchall()


def dbt_node_count(manifest_path: Path | None = None) -> int | None:
    """How many nodes ``dbt build`` reports on as Dagster events: models (not ephemeral), seeds,
    snapshots and tests; unit tests run too but yield no event."""
    import json

    from orchestration.dbt import dbt_project, ensure_manifest

    try:
        manifest = json.loads((manifest_path or ensure_manifest(dbt_project())).read_text())
    except (OSError, ValueError, RuntimeError):
        return None
    return sum(
        1
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed", "snapshot", "test")
        and node["config"].get("enabled", True)
        and node["config"].get("materialized") != "ephemeral"
    )


class _ProgressHandler(logging.Handler):
    def __init__(self, progress: RunProgress) -> None:
        super().__init__(level=logging.DEBUG)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        try:
            self.progress.run_id = self.progress.run_id or meta.get("run_id")
            self.progress.handle(
                meta.get("step_key"), meta.get("dagster_event"), record.levelno, str(meta.get("orig_message") or "")
            )
        except Exception as exc:  # a console line must never fail the run
            self.progress.out.write(f"(progress line not printed: {exc!r})\n")


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    # Not registered with logging.getLogger: nothing else (pytest, the root logger) sees its records.
    logger = logging.Logger(name, level=logging.DEBUG)
    logger.addHandler(handler)
    return logger


def run_loggers(progress: RunProgress, log_stream: TextIO) -> dict[str, dg.LoggerDefinition]:
    """Dagster loggers for a run: the stage lines, and every event in the log file."""
    file_handler = logging.StreamHandler(log_stream)
    file_handler.setFormatter(logging.Formatter("%(asctime)s - %(levelname)s - %(message)s"))
    return {
        "progress": dg.LoggerDefinition(lambda _: _logger("golden_thread.progress", _ProgressHandler(progress))),
        "event_log": dg.LoggerDefinition(lambda _: _logger("golden_thread.event_log", file_handler)),
    }


def log_path(logs_dir: Path, now: dt.datetime | None = None) -> Path:
    return logs_dir / f"pipeline-{(now or dt.datetime.now()):%Y%m%d-%H%M%S}.log"


@contextlib.contextmanager
def run_logging(path: Path) -> Iterator[tuple[TextIO, TextIO]]:
    """Open the run's log file and send this process's stdout and stderr to it for the block:
    dagster-dbt writes dbt's own output there, libraries their warnings. Yields (console, log)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    console = sys.stdout
    with (
        path.open("a", encoding="utf-8", buffering=1) as log,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        yield console, log
