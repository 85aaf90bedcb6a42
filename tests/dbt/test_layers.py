"""dbt layers flow one way: staging -> core -> marts/kpi -> marts/reports. A model reads models of its own layer
or earlier ones, never a later one, so tracing a KPI from its source to its report goes down the
folders once. Read from dbt's manifest (``make manifest``), which holds every model's folder and refs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestration.dbt import dbt_project, ensure_manifest

# The folders under dbt_project/models, in the order data flows (models/README.md). marts holds
# two layers: the KPI building blocks (kpi/) and the report tables built from them (reports/).
LAYERS = ("staging", "core", "marts/kpi", "marts/reports")


def layer_of(node: dict[str, Any]) -> str:
    """The layer folder a model sits in (``fqn`` is project, folder..., name)."""
    folders = node["fqn"][1:-1]
    if folders[:1] == ["marts"]:
        return "/".join(folders[:2])
    return folders[0] if folders else ""


def layer_violations(manifest: dict[str, Any]) -> list[str]:
    """One message per model that is outside the layer folders or reads a model of a later layer."""
    nodes = manifest["nodes"]
    problems = []
    for node in sorted(nodes.values(), key=lambda n: n["unique_id"]):
        if node["resource_type"] != "model":
            continue
        layer = layer_of(node)
        if layer not in LAYERS:
            problems.append(f"{node['name']} ({node['original_file_path']}) is in no layer folder {LAYERS}")
            continue
        for parent_id in node["depends_on"]["nodes"]:
            parent = nodes.get(parent_id)
            if parent is None or parent["resource_type"] != "model":
                continue
            parent_layer = layer_of(parent)
            if parent_layer in LAYERS and LAYERS.index(parent_layer) > LAYERS.index(layer):
                problems.append(
                    f"{layer}/{node['name']} reads {parent_layer}/{parent['name']}, a later layer "
                    f"({node['original_file_path']})"
                )
    return problems


def schema_violations(manifest: dict[str, Any]) -> list[str]:
    """Building blocks (int_*) live in schema intermediate; every other model after staging is
    published from schema marts, where the app and analysts read it."""
    problems = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or layer_of(node) == "staging":
            continue
        expected = "intermediate" if node["name"].startswith("int_") else "marts"
        if node["schema"] != expected:
            problems.append(f"{node['name']} is in schema {node['schema']}, expected {expected}")
    return sorted(problems)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return json.loads(ensure_manifest(dbt_project()).read_text())


def test_no_model_reads_a_later_layer(manifest: dict[str, Any]) -> None:
    assert layer_violations(manifest) == []


def test_every_layer_holds_models(manifest: dict[str, Any]) -> None:
    counts = {layer: 0 for layer in LAYERS}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model":
            counts[layer_of(node)] = counts.get(layer_of(node), 0) + 1
    assert all(counts[layer] > 0 for layer in LAYERS), counts
    assert set(counts) == set(LAYERS), f"models outside the layer folders: {counts}"


def test_published_and_building_block_schemas(manifest: dict[str, Any]) -> None:
    assert schema_violations(manifest) == []
    names = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    # The KPI models read conformed facts from core, not from a mart folder; the facts stay in marts.
    assert layer_of(names["fct_incidents"]) == "core" and names["fct_incidents"]["schema"] == "marts"
    assert layer_of(names["fct_kpi_observations"]) == "marts/kpi"
    assert layer_of(names["rpt_kpi_monthly"]) == "marts/reports"


def _model(name: str, layer: str, refs: list[str]) -> dict[str, Any]:
    return {
        "unique_id": f"model.p.{name}",
        "resource_type": "model",
        "name": name,
        "fqn": ["p", *layer.split("/"), "domain", name],
        "original_file_path": f"models/{layer}/domain/{name}.sql",
        "schema": "intermediate" if name.startswith("int_") else "marts",
        "depends_on": {"nodes": [f"model.p.{r}" for r in refs]},
    }


def test_a_back_edge_is_named_with_both_models() -> None:
    nodes = [
        _model("stg_a", "staging", []),
        _model("fct_a", "core", ["stg_a"]),
        _model("int_kpi_a", "marts/kpi", ["fct_a", "rpt_a"]),  # reads the report built from it
        _model("rpt_a", "marts/reports", ["int_kpi_a"]),
        _model("dim_b", "reporting", []),
    ]
    manifest = {"nodes": {n["unique_id"]: n for n in nodes}}
    assert layer_violations(manifest) == [
        "dim_b (models/reporting/domain/dim_b.sql) is in no layer folder "
        "('staging', 'core', 'marts/kpi', 'marts/reports')",
        "marts/kpi/int_kpi_a reads marts/reports/rpt_a, a later layer (models/marts/kpi/domain/int_kpi_a.sql)",
    ]


def test_a_report_table_outside_marts_schema_is_named() -> None:
    wrong = _model("fct_b", "core", []) | {"schema": "intermediate"}
    manifest = {"nodes": {wrong["unique_id"]: wrong, "model.p.int_c": _model("int_c", "marts/kpi", [])}}
    assert schema_violations(manifest) == ["fct_b is in schema intermediate, expected marts"]
