"""Everything the data-quality layer asks of Great Expectations (GX Core 1.x), in one module pinned
to one GX version: the only module that imports ``great_expectations``.

Several things here lean on GX internals that a GX release may change without notice, so importing
this module first checks that the installed GX is the version pinned in ``pyproject.toml`` and
refuses to run on any other (``GxVersionError``, naming both). To move to a new GX: change the
pin, run ``make setup``, and re-check each workaround below against the new release (the tests in
``tests/expectations/`` compare the runner's results with plain GX's).

The workarounds:

* a suite runs through GX's v1 ``Validator``, the object ``ValidationDefinition.run`` uses, but
  without ``run``'s write of the full result to the results store (about 9 s for a million failing
  rows) and without GX's fingerprint of the DataFrame (GX hashes the whole frame per batch, and
  ``Batch.validate`` a second time: about 0.5 s per million rows each, most of the cost of a clean
  run; see ``batch_definition``);
* failing records: GX is asked for ``COMPLETE`` results *without* ``unexpected_index_column_names``
  and returns the frame index of every failing row (with them GX builds a dict per failing row
  with two ``.at`` lookups per column, about 150 microseconds a row: 200,000 failing rows took
  30 s, against under 1 s when the runner reads those rows itself);
* GX compares only numpy ints and floats with a range in one vectorised step; a nullable integer
  column (pandas ``Int64``: an integer column with nulls, as DuckDB returns it) is compared by a
  Python call per value (about 1 s per million). A nullable integer column that only range checks
  read is given to GX as float64 (exact below 2**53, ``as_float``), and the failing values GX
  lists for those checks are turned back into integers (``run``), so its results read as they
  would have;
* a row condition is applied with the pandas query GX's own engine would run (``filter_clause``);
* a result combined over chunks is formatted by GX's own formatter of a row-level check
  (``format_row_result``), and checks judged outside GX get GX result objects for Data Docs;
* ``save_suite`` stores a suite for Data Docs in time linear in its length.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from expectations.results import SAMPLE_SIZE
from expectations.suites.base import Check, Suite

GX_DISTRIBUTION = "great-expectations"
PROJECT = "golden-thread"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


class GxVersionError(RuntimeError):
    """The installed Great Expectations is not the version this module's workarounds were written for."""


def pin_in(requirements: Iterable[str]) -> str | None:
    """The exact version ``requirements`` pin great-expectations to (``==X.Y.Z``), or None."""
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != GX_DISTRIBUTION or requirement.marker is not None:
            continue
        specs = list(requirement.specifier)
        if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
            return specs[0].version
        return None
    return None


def pinned_gx_version(pyproject: Path = PYPROJECT) -> str:
    """The GX version pinned in the project's ``pyproject.toml`` (in a source checkout or an editable
    install), else in the installed project's metadata; ``GxVersionError`` when neither pins one."""
    if pyproject.is_file():
        where = str(pyproject)
        try:
            requirements = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
        except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
            raise GxVersionError(f"{where}: cannot read [project] dependencies ({exc})") from exc
    else:
        where = f"the installed {PROJECT} package's metadata"
        try:
            requirements = metadata.requires(PROJECT) or []
        except metadata.PackageNotFoundError:
            requirements = []
    pinned = pin_in(requirements)
    if pinned is None:
        raise GxVersionError(
            f"{where} pins no exact {GX_DISTRIBUTION} version (expected '{GX_DISTRIBUTION}==X.Y.Z'): "
            "expectations/gx_adapter.py works around GX internals and must know the version they were written for"
        )
    return pinned


def installed_gx_version() -> str | None:
    try:
        return metadata.version(GX_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def check_gx_version(installed: str | None, pinned: str) -> None:
    """Refuse a GX other than the pinned one, naming both versions and what to do."""
    if installed == pinned:
        return
    found = "is not installed" if installed is None else f"{installed} is installed"
    raise GxVersionError(
        f"Great Expectations {found}, but the data-quality checks need great-expectations {pinned}, "
        f"the version pinned in pyproject.toml: expectations/gx_adapter.py works around GX {pinned} internals "
        f"that another version may change. Run `make setup` to install {pinned}; to move to "
        f"{installed or 'another version'}, change the pin and re-check the workarounds in "
        "expectations/gx_adapter.py against it (the tests in tests/expectations/ compare them with plain GX)."
    )


check_gx_version(installed_gx_version(), pinned_gx_version())

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.core.expectation_validation_result import (  # noqa: E402
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)
from great_expectations.core.run_identifier import RunIdentifier  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.data_context.types.resource_identifiers import (  # noqa: E402
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.execution_engine import PandasExecutionEngine, pandas_execution_engine  # noqa: E402
from great_expectations.expectations.expectation import _format_map_output, parse_result_format  # noqa: E402
from great_expectations.expectations.row_conditions import Column as GxColumn  # noqa: E402
from great_expectations.validator.v1_validator import Validator  # noqa: E402
from great_expectations.validator.validation_statistics import calc_validation_statistics  # noqa: E402

RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "partial_unexpected_count": SAMPLE_SIZE,
    "return_unexpected_index_query": False,
}
# Result keys that can hold one entry per failing row: dropped from the copy kept for Data Docs.
BULKY = ("unexpected_list", "unexpected_index_list", "unexpected_index_query", "partial_unexpected_index_list")
# Checks on the table's columns themselves (column set, count, order): GX is given the frame's header.
HEADER_EXPECTATIONS = frozenset(
    {
        "ExpectTableColumnsToMatchSet",
        "ExpectTableColumnsToMatchOrderedList",
        "ExpectTableColumnCountToEqual",
        "ExpectTableColumnCountToBeBetween",
    }
)

_state: dict[str, Any] = {}


def batch_definition():
    """The process's ephemeral GX context, pandas data source and whole-dataframe batch definition."""
    if "batch_definition" not in _state:
        # GX fingerprints every batch under 1e9 bytes (an MD5 of ``hash_pandas_object``) only to
        # label it in the result's batch markers. The runner gives GX several parts of each chunk,
        # so that was a fifth of the raw gate's time at national scale (20.6 s of 106.7 s for the
        # mobilisations). Nothing here reads the fingerprint: a threshold of 0 skips it.
        pandas_execution_engine.HASH_THRESHOLD = 0
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = context.data_sources.add_pandas("golden_thread")
        asset = source.add_dataframe_asset("frame")
        _state["context"] = context
        _state["batch_definition"] = asset.add_batch_definition_whole_dataframe("whole_frame")
    return _state["batch_definition"]


def plain(value: Any) -> Any:
    """numpy scalars to Python ones (GX's pydantic models want plain types)."""
    return value.item() if isinstance(value, np.generic) else value


def _condition(where: dict[str, Any]):
    condition = None
    for name, value in where.items():
        part = GxColumn(name).is_null() if value is None else GxColumn(name) == plain(value)
        condition = part if condition is None else condition & part
    return condition


def filter_clause(where: dict[str, Any]) -> str:
    """The pandas query GX runs for a ``where`` (its pandas execution engine's own translation)."""
    if "engine" not in _state:
        _state["engine"] = PandasExecutionEngine()
    return _state["engine"].condition_to_filter_clause(_condition(where))


def to_gx(check: Check, number: int, *, condition: bool = True) -> gxe.Expectation:
    """The GX expectation for a check, tagged with its number, severity and description (without its
    row condition when ``condition`` is false: the runner has selected the rows already)."""
    cls = getattr(gxe, check.expectation, None)
    if cls is None or not isinstance(cls, type):
        raise ValueError(f"unknown GX expectation {check.expectation!r}")
    kwargs = dict(check.kwargs)
    if "value_set" in kwargs:
        kwargs["value_set"] = [plain(v) for v in kwargs["value_set"]]
    if check.where and condition:
        kwargs["row_condition"] = _condition(check.where)
    meta = {"check_number": number, "severity": check.severity}
    return cls(**kwargs, meta=meta, description=f"[{check.severity}] {check.description}")


def gx_suite(suite: Suite) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(
        name=suite.name,
        expectations=[to_gx(c, i) for i, c in enumerate(suite.checks, start=1)],
        meta={"target": suite.target, "key_columns": suite.key_columns},
    )


def exception_message(info: Any) -> str | None:
    """The message of the exception GX caught while judging a check (its ``exception_info``), or None."""
    if not info:
        return None
    if isinstance(info, dict) and "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    messages = []
    for value in info.values() if isinstance(info, dict) else []:
        if isinstance(value, dict) and value.get("raised_exception"):
            messages.append(str(value.get("exception_message")))
    return "; ".join(messages) or None


# ----------------------------------------------------------------------------- running a part


@dataclass
class Part:
    """Some of a frame's rows and columns and the checks GX judges on them (``expectations.parts``)."""

    frame: pd.DataFrame
    checks: list[tuple[int, Check]]
    prefiltered: bool = False  # rows already selected by the checks' (shared) condition
    as_float: frozenset[str] = frozenset()  # nullable integer columns given to GX as float64


def as_float(part: Part) -> Part:
    """``part`` with its nullable integer columns that only range checks read as float64."""
    readers: dict[str, set[str]] = {}
    for _, c in part.checks:
        for name in c.columns:
            readers.setdefault(name, set()).add(c.expectation)
        for name in c.where or {}:
            readers.setdefault(name, set()).add("row condition")
    only_ranges = [name for name, kinds in readers.items() if kinds == {"ExpectColumnValuesToBeBetween"}]
    names = [name for name in only_ranges if name in part.frame.columns and _exact_as_float(part.frame[name])]
    if not names:
        return part
    return Part(part.frame.astype(dict.fromkeys(names, "float64")), part.checks, part.prefiltered, frozenset(names))


def _exact_as_float(series: pd.Series) -> bool:
    """A nullable (extension) integer column whose values float64 holds exactly."""
    if not (isinstance(series.dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(series.dtype)):
        return False
    top = series.abs().max(skipna=True)
    return bool(pd.isna(top) or top < 2**53)


def _as_int(value: Any) -> Any:
    return int(value) if isinstance(value, float | np.floating) and float(value).is_integer() else value


def _restore_ints(result: dict[str, Any]) -> None:
    """Failing values of a column given to GX as float64 back to the integers they are."""
    for key in ("partial_unexpected_list", "unexpected_list"):
        if isinstance(result.get(key), list):
            result[key] = [_as_int(v) for v in result[key]]
    if isinstance(result.get("partial_unexpected_counts"), list):
        result["partial_unexpected_counts"] = [
            {**entry, "value": _as_int(entry["value"])} if isinstance(entry, dict) and "value" in entry else entry
            for entry in result["partial_unexpected_counts"]
        ]


def run(suite: Suite, part: Part) -> ExpectationSuiteValidationResult:
    """GX's validation of ``part``'s frame against its checks: one result per check, each tagged
    with the check's number in ``expectation_config.meta["check_number"]``."""
    expectations = gx.ExpectationSuite(
        name=suite.name,
        expectations=[to_gx(c, n, condition=not part.prefiltered) for n, c in part.checks],
        meta={"target": suite.target, "key_columns": suite.key_columns},
    )
    validator = Validator(
        batch_definition=batch_definition(), batch_parameters={"dataframe": part.frame}, result_format=RESULT_FORMAT
    )
    outcome = validator.validate_expectation_suite(expectations)
    checks = dict(part.checks)
    for r in outcome.results:
        n = r.expectation_config.meta["check_number"]
        if part.as_float and set(checks[n].columns) & part.as_float and isinstance(r.result, dict):
            _restore_ints(r.result)
        if part.prefiltered:  # the Data Docs copy names the condition the rows were selected by
            r.expectation_config = to_gx(checks[n], n).configuration
    return outcome


# ----------------------------------------------------------------------------- results made outside GX


def format_row_result(
    *,
    success: bool,
    element_count: int,
    nonnull_count: int | None,
    unexpected_count: int,
    unexpected_list: list,
) -> dict[str, Any]:
    """A row-level check's result from its counts, as GX formats it (for counts summed over chunks)."""
    return _format_map_output(
        result_format=parse_result_format(RESULT_FORMAT),
        success=success,
        element_count=element_count,
        nonnull_count=nonnull_count,
        unexpected_count=unexpected_count,
        unexpected_list=unexpected_list,
    )["result"]


def validation_result(
    suite: Suite, number: int, success: bool, result: dict[str, Any], error: str | None
) -> ExpectationValidationResult:
    """A GX validation result for a check judged outside GX (or combined over chunks), for Data Docs."""
    return ExpectationValidationResult(
        success=success,
        expectation_config=to_gx(suite.checks[number - 1], number).configuration,
        result={k: v for k, v in result.items() if k not in BULKY},
        exception_info={"raised_exception": error is not None, "exception_traceback": None, "exception_message": error},
    )


def suite_validation_result(
    suite: Suite, results: list[Any], meta: tuple[dict, Any] | None
) -> ExpectationSuiteValidationResult:
    """One GX suite result for the Data Docs copy, in check order; ``meta`` is a GX outcome's meta and
    batch id (the batch's description)."""
    results = sorted(results, key=lambda r: r.expectation_config.meta["check_number"])
    statistics = calc_validation_statistics(results)
    return ExpectationSuiteValidationResult(
        results=results,
        success=statistics.success,
        suite_name=suite.name,
        statistics={
            "evaluated_expectations": statistics.evaluated_expectations,
            "successful_expectations": statistics.successful_expectations,
            "unsuccessful_expectations": statistics.unsuccessful_expectations,
            "success_percent": statistics.success_percent,
        },
        meta=dict(meta[0]) if meta is not None else {"great_expectations_version": gx.__version__},
        batch_id=meta[1] if meta is not None else None,
    )


# ----------------------------------------------------------------------------- the Data Docs store


def docs_context(data_dir: Path):
    """The file GX context under ``data_dir/gx`` that keeps suites and trimmed results for Data Docs."""
    key = f"docs:{Path(data_dir).resolve()}"
    if key not in _state:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(data_dir))
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _state[key] = context
    return _state[key]


def save_suite(context: Any, suite: gx.ExpectationSuite) -> None:
    """``context.suites.add_or_update(suite)`` in time linear in the suite's length.

    GX's ``add_or_update`` keeps the id of each expectation that is unchanged by looking it up in
    the stored suite's list with ``list.index``, comparing pydantic dicts pair by pair: quadratic in
    the number of expectations, and a raw suite gains a volume check per landed period. Once a data
    directory's GX store held the suites, this took 40 of the raw gate's 89 CPU seconds at 3 services
    x 5 years. This finds the same first equal stored expectation through GX's own hash (consistent
    with its equality), then writes the suite as ``add_or_update`` does.
    """
    store = context.expectations_store
    key = store.get_key(name=suite.name, id=None)
    if not store.has_key(key=key):
        context.suites.add(suite)
        return
    existing = context.suites.get(name=suite.name)
    first_equal: dict[int, list[gxe.Expectation]] = {}
    for stored in existing.expectations:
        first_equal.setdefault(hash(stored), []).append(stored)
    for expectation in suite.expectations:
        match = next((e for e in first_equal.get(hash(expectation), []) if e == expectation), None)
        if match is not None:
            expectation.id = match.id
    suite.id = existing.id
    store.update(key=store.get_key(name=suite.name, id=suite.id), value=suite)


def store_validation_result(
    context: Any, outcome: ExpectationSuiteValidationResult, suite_name: str, run_name: str, run_time: Any, batch: str
) -> None:
    """Keep ``outcome`` in ``context``'s validation results store under run ``run_name`` and ``batch``."""
    suite_id = ExpectationSuiteIdentifier(name=suite_name)
    identifier = ValidationResultIdentifier(
        expectation_suite_identifier=suite_id,
        run_id=RunIdentifier(run_name=run_name, run_time=run_time),
        batch_identifier=batch,
    )
    context.validation_results_store.store_validation_results(outcome, identifier, suite_id)
