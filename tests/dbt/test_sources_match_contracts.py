"""The dbt sources and the source contracts agree: every raw table dbt reads has a contract, every
contract has a dbt source, and every column a source declares is one the raw table stores.

(The columns each staging model selects are checked by test_staging.py, which builds the staging
layer on raw tables made by the engine's own DDL.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestration.ingestion.contracts import Entity, load_contracts
from orchestration.ingestion.engine import LINEAGE_DDL
from orchestration.ingestion.validate import stored_name

STAGING = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging"
RAW_SCHEMAS = {"raw", "raw_current"}


def raw_source_tables(staging: Path) -> dict[str, tuple[Path, list[str]]]:
    """Raw table -> (the sources file declaring it, the columns it lists)."""
    found: dict[str, tuple[Path, list[str]]] = {}
    for path in sorted(staging.glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            if source.get("schema") not in RAW_SCHEMAS:
                continue
            for table in source.get("tables", []):
                name = table.get("identifier", table["name"])
                found[name] = (path, [c["name"] for c in table.get("columns", [])])
    return found


def stored_columns(entity: Entity) -> set[str]:
    return {stored_name(c) for c in entity.loaded_columns} | {name for name, _ in LINEAGE_DDL}


def disagreements(staging: Path) -> list[str]:
    contracts = {e.table: e for e in load_contracts().all_entities}
    sources = raw_source_tables(staging)
    problems = [f"contract {t} has no dbt source table" for t in sorted(set(contracts) - set(sources))]
    for table, (path, columns) in sorted(sources.items()):
        if table not in contracts:
            problems.append(f"{path.name}: raw table {table} has no contract in sources/contracts/")
            continue
        unknown = sorted(set(columns) - stored_columns(contracts[table]))
        if unknown:
            problems.append(f"{path.name}: {table} lists columns the raw table does not store: {', '.join(unknown)}")
    return problems


def test_dbt_sources_and_contracts_agree() -> None:
    assert len(raw_source_tables(STAGING)) == len(load_contracts().all_entities) == 25
    assert disagreements(STAGING) == []


@pytest.fixture
def staging_copy(tmp_path: Path) -> Path:
    target = tmp_path / "staging"
    for path in STAGING.glob("*/_*__sources.yml"):
        (target / path.parent.name).mkdir(parents=True, exist_ok=True)
        (target / path.parent.name / path.name).write_text(path.read_text())
    return target


def test_a_disagreement_is_named(staging_copy: Path) -> None:
    hr = staging_copy / "hr" / "_hr__sources.yml"
    data = yaml.safe_load(hr.read_text())
    staff = data["sources"][0]["tables"][0]
    # staff_number is stored pseudonymised as staff_key; first_name is never stored.
    staff["columns"] = [{"name": "staff_key"}, {"name": "_batch_id"}, {"name": "staff_number"}, {"name": "first_name"}]
    data["sources"][0]["tables"].append({"name": "payroll", "identifier": "hr__payroll"})
    hr.write_text(yaml.safe_dump(data))
    (staging_copy / "irs" / "_irs__sources.yml").unlink()
    assert disagreements(staging_copy) == [
        "contract irs__incidents has no dbt source table",
        "_hr__sources.yml: raw table hr__payroll has no contract in sources/contracts/",
        "_hr__sources.yml: hr__staff lists columns the raw table does not store: first_name, staff_number",
    ]
