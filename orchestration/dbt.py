"""dbt assets: one ``@dbt_assets`` over the whole project, sources wired to ingestion assets."""

import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from orchestration.dbt_definitions import fingerprints, history_changes
from orchestration.partitions import FIRST_MONTH, months_in_run, run_settings
from orchestration.resources import WarehouseResource
from orchestration.settings import dbt_project_dir
from orchestration.warehouse import (
    accepted_since_last_build,
    last_build_definitions,
    record_dbt_definitions,
    record_dbt_invocation,
    withdrawals_since_last_build,
)

DBT_PROJECT_DIR = dbt_project_dir()
RAW_QUALITY_GATE = dg.AssetKey(["quality", "raw_batches_validated"])


# dbt sources are the raw tables the ingestion assets write (``raw/<system>__<entity>``);
# the audit log has no asset of its own and shows as an external asset.
def source_asset_key(source_name: str, table: str) -> dg.AssetKey:
    if source_name == "audit":
        return dg.AssetKey(["audit", table])
    return dg.AssetKey(["raw", f"{source_name}__{table}"])


@cache
def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest(project: DbtProject) -> Path:
    """``@dbt_assets`` needs target/manifest.json at import; build it with ``dbt parse`` if absent
    or older than a file of the project (the pipeline's check of changed definitions reads it)."""
    if not project.manifest_path.exists() or manifest_is_stale(project.manifest_path):
        from dbt.cli.main import dbtRunner

        os.environ.setdefault("DO_NOT_TRACK", "1")
        result = dbtRunner().invoke(
            ["parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet"]
        )
        if not result.success:
            raise RuntimeError(f"dbt parse failed: {result.exception}")
    return project.manifest_path


def project_config(project_dir: Path | None = None) -> dict[str, Any]:
    return yaml.safe_load(((project_dir or DBT_PROJECT_DIR) / "dbt_project.yml").read_text()) or {}


def manifest_is_stale(manifest_path: Path, project_dir: Path | None = None) -> bool:
    """Whether a file dbt parses (dbt_project.yml and everything under its model, seed, macro,
    test, snapshot and analysis paths) changed after ``manifest_path`` was written: an edited
    project whose manifest was not parsed again (``make manifest``). A few hundred stats."""
    project_dir = project_dir or DBT_PROJECT_DIR
    written = manifest_path.stat().st_mtime_ns
    config = project_config(project_dir)
    folders = [
        project_dir / folder
        for key, default in (
            ("model-paths", ["models"]),
            ("seed-paths", ["seeds"]),
            ("macro-paths", ["macros"]),
            ("test-paths", ["tests"]),
            ("snapshot-paths", ["snapshots"]),
            ("analysis-paths", ["analyses"]),
        )
        for folder in config.get(key) or default
    ]
    if (project_dir / "dbt_project.yml").stat().st_mtime_ns > written:
        return True
    for folder in folders:
        for root, _dirs, files in os.walk(folder):
            if any(os.stat(os.path.join(root, name)).st_mtime_ns > written for name in files):
                return True
    return False


def definitions_in(manifest_path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """dbt's manifest at ``manifest_path`` and the fingerprints of what it defines."""
    manifest = json.loads(manifest_path.read_text())
    return manifest, fingerprints(manifest, project_config().get("vars"))


def dbt_build_args(full_refresh: bool = False) -> list[str]:
    """Arguments for the pipeline's dbt build (its parameters are in ``dbt_build_env``). dbt's unit
    tests check the SQL, not the data: they run in the test suite (``make test-fast``), not in
    every build."""
    args = ["build", "--exclude-resource-type", "unit_test"]
    return [*args, "--full-refresh"] if full_refresh else args


def dbt_build_env(as_of: str, months_from: str | None = None) -> dict[str, str]:
    """The pipeline's dbt parameters, as environment variables the project's ``as_of()`` and
    ``months_from()`` macros read: the reporting cut-off and the first month the run closes
    (incremental models recompute every month from ``months_from`` to the cut-off, and any
    earlier month that new batches touched). Not ``--vars``: dbt parses every node again when
    they change (every run), but only the nodes that read an environment variable when it does."""
    return {"GT_AS_OF": as_of, "GT_MONTHS_FROM": months_from or ""}


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` set in ``os.environ`` inside the block, and the previous values (or their
    absence) restored after it."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# dbt's parse of the project, kept beside the warehouse between runs (see ``run_target_path``).
PARTIAL_PARSE = "partial_parse.msgpack"


def _kept_parse(data_dir: Path) -> Path:
    """Where the pipeline's last parse of this checkout's project is kept for this warehouse: the
    parse holds the project's paths, so a checkout elsewhere keeps its own."""
    checkout = hashlib.sha256(str(DBT_PROJECT_DIR.resolve()).encode()).hexdigest()[:12]
    return data_dir / "dbt" / f"partial_parse-{checkout}.msgpack"


def run_target_path(context: dg.AssetExecutionContext, data_dir: Path) -> Path:
    """A new target folder for this invocation (named as dagster-dbt names them), holding the
    parse the last invocation on this warehouse left, so dbt parses only what changed since.

    Only a parse the pipeline made is given to dbt. dagster-dbt would copy the project's own
    ``target/partial_parse.msgpack`` (unless ``DBT_TARGET_PATH`` names this folder, see
    ``dbt_target_env``), but that one comes from ``make manifest``: run from another folder with
    a relative project path, its seed paths do not resolve in the pipeline's dbt."""
    name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    target = DBT_PROJECT_DIR / "target" / name
    target.mkdir(parents=True, exist_ok=True)
    kept = _kept_parse(data_dir)
    if kept.exists():
        shutil.copyfile(kept, target / PARTIAL_PARSE)
    return target


def dbt_target_env(target: Path) -> dict[str, str]:
    """``DBT_TARGET_PATH`` naming the invocation's own folder while dagster-dbt starts it: where
    dagster-dbt looks for a parse to copy (so it finds only the one ``run_target_path`` put
    there) and where dbt writes."""
    return {"DBT_TARGET_PATH": str(target)}


def keep_partial_parse(target: Path, data_dir: Path) -> None:
    """Keep the parse dbt wrote in ``target`` for the next invocation on this warehouse."""
    parsed = target / PARTIAL_PARSE
    if parsed.exists():
        kept = _kept_parse(data_dir)
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_suffix(".tmp")
        shutil.copyfile(parsed, partial)
        partial.replace(kept)


class GoldenThreadTranslator(DagsterDbtTranslator):
    """dbt schema -> asset key prefix, dbt layer (folder) -> group; sources -> the ingestion asset that loads them."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if unique_id.startswith("source."):
            props = manifest["sources"][unique_id]
            return spec.replace_attributes(key=source_asset_key(props["source_name"], props["name"]))
        props = manifest["nodes"][unique_id]
        # Keyed by the schema that holds the table (marts.fct_incidents, intermediate.int_...), so
        # a model keeps its key when it moves between layers; grouped by its layer (the folder).
        layer = props["fqn"][1] if props["resource_type"] == "model" and len(props["fqn"]) > 2 else "seeds"
        spec = spec.replace_attributes(key=dg.AssetKey([props["schema"], props["name"]]), group_name=f"dbt_{layer}")
        if layer == "staging":
            # Nothing is built from a landed batch until its data-quality suite has passed.
            spec = spec.merge_attributes(deps=[RAW_QUALITY_GATE])
        return spec


def build_dbt_assets() -> dg.AssetsDefinition:
    project = dbt_project()
    # Loaded here rather than by dagster-dbt so that a close's check of changed definitions reads
    # the same manifest without loading it again (0.2 s).
    manifest = json.loads(ensure_manifest(project).read_text())

    @dbt_assets(
        manifest=manifest,
        project=project,
        # dbt's tests run inside `dbt build` and any failure fails the step, naming the test; they
        # are not also loaded as Dagster asset checks: some 400 check definitions and a "planned"
        # and a result event for each in every run cost more than the tests themselves (bench/).
        dagster_dbt_translator=GoldenThreadTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False)),
    )
    def golden_thread_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        settings = run_settings(context, warehouse.settings)
        months = months_in_run(context)
        # dbt's profile reads the warehouse path from GT_DATA_DIR, the run's parameters from GT_AS_OF
        # and GT_MONTHS_FROM (the dbt process inherits this environment).
        os.environ["GT_DATA_DIR"] = str(settings.data_dir)
        # A run over every month (the first build, `pipeline --full`) rebuilds every model from
        # scratch. So does a close after a month was withdrawn: replace_groups replaces the months
        # a build recomputes but cannot drop a month that no longer has any rows.
        full_refresh = bool(months) and months[0].isoformat() == FIRST_MONTH
        checked: dict[str, str] | None = None  # the definitions found unchanged, in a build not rebuilding all
        if not full_refresh:
            with warehouse.connect() as con:
                withdrawn = withdrawals_since_last_build(con)
                accepted = accepted_since_last_build(con)
                recorded = last_build_definitions(con)
            if accepted:
                listed = ", ".join(f"{name} (batch {batch})" for name, batch in accepted[:5])
                context.log.warning(
                    f"{len(accepted)} held deliver{'y' if len(accepted) == 1 else 'ies'} accepted since the last "
                    f"build ({listed}{', ...' if len(accepted) > 5 else ''}): rebuilding every model "
                    "(--full-refresh), as their batches are older than the last build's"
                )
                full_refresh = True
            elif withdrawn:
                listed = ", ".join(f"{table} {service} {delivery}" for table, service, delivery in withdrawn[:5])
                context.log.warning(
                    f"{len(withdrawn)} withdrawn deliver{'y' if len(withdrawn) == 1 else 'ies'} since the last "
                    f"build ({listed}{', ...' if len(withdrawn) > 5 else ''}): rebuilding every model "
                    "(--full-refresh), as an incremental build cannot drop a month that no longer has rows"
                )
                full_refresh = True
            else:
                full_refresh, checked = definitions_check(context.log, manifest, recorded, project_config().get("vars"))
        target = run_target_path(context, settings.data_dir)
        # The dbt process starts here and inherits the environment; this process's is left as it was
        # (GT_AS_OF is also the pipeline's own setting).
        months_from = months[0].isoformat() if months else None
        with environment(dbt_build_env(settings.as_of.isoformat(), months_from) | dbt_target_env(target)):
            invocation = dbt.cli(dbt_build_args(full_refresh), context=context, target_path=target)
        success = False
        try:
            yield from invocation.stream()
            success = invocation.is_successful()
            keep_partial_parse(invocation.target_path, settings.data_dir)
        finally:
            # Even a failed build may have rewritten some months: the record tells the mart gate and
            # publish that rows since the last publication were not all written by one checked build.
            with warehouse.connect() as con:
                built = invocation_id(invocation.target_path) if success else None
                # A build of some models only (chosen in the Dagster UI) leaves no record: the next
                # whole build compares with the last whole one.
                if built is not None and not context.is_subset:
                    # An incremental build records the definitions it was checked against: were
                    # the project edited since, the next build finds the change. A full build
                    # records those it rebuilt with.
                    if full_refresh or checked is None:
                        checked = definitions_in(invocation.target_path / "manifest.json")[1]
                    record_dbt_definitions(con, built, checked)
                record_dbt_invocation(
                    con,
                    run_id=context.run_id,
                    invocation_id=invocation_id(invocation.target_path),
                    as_of=settings.as_of,
                    months_from=months[0] if months else None,
                    full_refresh=full_refresh,
                    success=success,
                )
            prune_target_paths(invocation.target_path)

    return golden_thread_dbt


def definitions_check(
    log: Any,
    manifest: Mapping[str, Any],
    recorded: Mapping[str, str] | None,
    project_vars: Mapping[str, Any] | None = None,
) -> tuple[bool, dict[str, str]]:
    """Whether a build that would close recent months only must rebuild every month instead, as a
    definition in ``manifest`` (the project as the run found it) changed since the last successful
    build (``recorded``, see ``last_build_definitions``) in a way an incremental build would apply
    to recent months only (``dbt_definitions.history_changes``); with the project's fingerprints.
    Says why in one warning on ``log`` when it must."""
    current = fingerprints(manifest, project_vars)
    if recorded is None:
        log.warning(
            "dbt: no record of the definitions the last build used (a warehouse built before builds "
            "recorded them): rebuilding every month once (--full-refresh)"
        )
        return True, current
    changes = history_changes(manifest, current, recorded)
    if changes:
        count = len(changes.changed)
        log.warning(
            f"dbt: {count} definition{'' if count == 1 else 's'} changed since the last build "
            f"({changes.describe()}): rebuilding every month (--full-refresh)"
        )
        return True, current
    return False, current


# dagster-dbt gives every invocation its own target folder (``<op>-<run id>-<random>``, about
# 32 MB of compiled SQL and artifacts at national scale): kept forever, a monthly close leaves a
# folder per run. The newest few are kept for debugging a run.
KEEP_TARGET_PATHS = 5


def prune_target_paths(current: Path, keep: int = KEEP_TARGET_PATHS) -> list[Path]:
    """Remove all but the ``keep`` newest per-invocation target folders beside ``current`` (never
    ``current`` itself); return the folders removed."""
    prefix = current.name.split("-", 1)[0] + "-"
    siblings = [p for p in current.parent.glob(f"{prefix}*") if p.is_dir() and p != current]
    siblings.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = siblings[max(keep - 1, 0) :]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def incremental_unique_keys(manifest_path: Path | None = None) -> dict[tuple[str, str], list[str]]:
    """(schema, table) -> ``unique_key`` of every incremental model whose rows carry ``_invocation_id``
    (what publish needs to repeat dbt's replace_groups delete and insert in ``serving.duckdb``)."""
    manifest = json.loads((manifest_path or ensure_manifest(dbt_project())).read_text())
    keys = {}
    for node in manifest["nodes"].values():
        config = node.get("config", {})
        if node["resource_type"] != "model" or config.get("materialized") != "incremental":
            continue
        if "_invocation_id" not in node.get("columns", {}):
            continue
        unique_key = config.get("unique_key")
        if unique_key:
            keys[(node["schema"], node["alias"] or node["name"])] = (
                [unique_key] if isinstance(unique_key, str) else list(unique_key)
            )
    return keys


def invocation_id(target_path: Path) -> str | None:
    """dbt's id for the invocation that wrote ``target_path`` (from run_results.json), if it got that far."""
    try:
        return json.loads((target_path / "run_results.json").read_text())["metadata"]["invocation_id"]
    except (OSError, ValueError, KeyError):
        return None


class PipelineDbtCli(DbtCliResource):
    """dagster-dbt's dbt resource without two things it does before every invocation that this
    pipeline never uses, about 4 s of every build and close on two cores:

    - it runs ``dbt --version`` in a subprocess (2.3 s) to learn the version of the dbt it is
      about to run; the dbt run here is the one installed beside this interpreter, so the
      installed dbt-core's version is the answer;
    - it loads the project, profile and macros into an in-process dbt adapter (1.8 s), which
      serves only ``fetch_row_counts`` and ``fetch_column_metadata``; without it dagster-dbt
      streams the same events (it treats a missing adapter as the Fusion engine's case).
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 - dagster-dbt's signature
        return None


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this interpreter (.venv/bin/dbt), whether or not .venv is on PATH.
    executable = Path(sys.executable).parent / "dbt"
    return PipelineDbtCli(
        project_dir=dbt_project(),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(executable) if executable.exists() else "dbt",
    )
