"""Renders the source contracts as the reference page docs/contracts.md (never edited by hand)."""

from __future__ import annotations

from pathlib import Path

from orchestration.ingestion.contracts import Column, Contracts, Entity
from orchestration.ingestion.validate import TYPE_RULES

DOCS_PATH = Path(__file__).resolve().parents[2] / "docs" / "contracts.md"

_PERIODS = {
    "monthly": "`YYYY-MM`, one file per month",
    "snapshot": "`YYYY-MM-DD`, the extract date; the latest extract replaces the one before",
    "financial_year": "`FYYYYY-YY`, one file per financial year",
}


def _number(value: float) -> str:
    return f"{value:,g}" if abs(value) < 1e6 else f"{value:,.0f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _range(c: Column) -> str:
    if c.minimum is None and c.maximum is None:
        return ""
    lo = "" if c.minimum is None else _number(c.minimum)
    hi = "" if c.maximum is None else _number(c.maximum)
    return f"{lo} to {hi}"


def _allowed(c: Column, codes: dict[str, tuple[str, ...]]) -> str:
    if c.allowed is None:
        return ""
    named = [name for name, values in codes.items() if values == c.allowed]
    if named:
        return f"[{named[0]}](#code-lists)"
    return ", ".join(f"`{a}`" for a in c.allowed)


def _personal(c: Column) -> str:
    if c.personal:
        return "dropped"
    if c.pseudonymise:
        return "pseudonymised"
    return ""


def _file_pattern(e: Entity, contracts: Contracts) -> str:
    if e in contracts.national_entities:
        return f"`{e.stem}.*` in the real-data folder, read by its adapter in `orchestration/ingestion/real_data.py`"
    if e in contracts.app_entities:
        return "the app's commentary store (SQLite), read by `orchestration/ingestion/app_store.py`"
    where = f" (sheet `{e.sheet}`)" if e.sheet else f" (at `{e.json_path}`)" if e.json_path else ""
    return f"`landing/{e.system}/<service_id>/{e.stem}_<period>.{e.extension}`{where}"


def _entity(e: Entity, contracts: Contracts) -> list[str]:
    codes = contracts.codes
    lines = [
        f"### `{e.table}`",
        "",
        e.description,
        "",
        f"- File: {_file_pattern(e, contracts)}",
        f"- Delivery: {e.delivery}; period {_PERIODS[e.delivery]}",
        f"- Key: {', '.join(f'`{k}`' for k in e.key)}",
    ]
    if e.known_codes:
        rules = ", ".join(f"`{k.column}` in `reference__{k.ref_entity}.{k.ref_column}`" for k in e.known_codes)
        lines.append(f"- Known codes: {rules}")
    if e.sequence:
        lines.append(f"- In order (non-decreasing): {' → '.join(f'`{s}`' for s in e.sequence)}")
    if e.elapsed_bounds:
        start, end, lo, hi = e.elapsed_bounds
        lines.append(f"- `{start}` to `{end}`: {_number(lo)} to {_number(hi)} seconds")
    if e.not_future:
        lines.append(f"- Not in the future: {', '.join(f'`{c}`' for c in e.not_future)}")
    if e.period_column:
        lines.append(f"- `{e.period_column}` falls in the file's month")
    lines += [
        "",
        "| column | type | required | allowed | range | personal | description |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in e.columns:
        cells = [
            f"`{c.name}`",
            c.type,
            "yes" if c.required else "",
            _allowed(c, codes),
            _range(c),
            _personal(c),
            _cell(c.description),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def render(contracts: Contracts) -> str:
    """The whole page: per system, its entities with their file pattern, delivery, key and columns."""
    lines = [
        "# Source contracts",
        "",
        "Generated from `sources/contracts/*.yml` by "
        "`python -m orchestration.ingestion.contracts --write-docs`; edit the YAML, not this page.",
        "A value outside its column's range, a code not in its allowed list or a missing required value "
        "sends the row to quarantine with the reason. Dropped columns never reach the warehouse; "
        "pseudonymised ones are stored as a keyed hash under `<name>_key` (`staff_number` → `staff_key`).",
        "",
        "What each type accepts (spaces around a number, date, time or flag are ignored; a blank value is "
        "missing; a control character other than tab and line breaks, such as NUL, in any value sends the "
        "row to quarantine):",
        "",
        *(f"- `{name}`: {rule}" for name, rule in TYPE_RULES.items()),
        "",
    ]
    by_system: dict[str, list[Entity]] = {}
    for e in contracts.all_entities:
        by_system.setdefault(e.system, []).append(e)
    order = [*contracts.systems, *(s for s in by_system if s not in contracts.systems)]
    lines += [f"- [{s}](#{s}): {contracts.system_descriptions[s]}" for s in order]
    lines.append("")
    for system in order:
        lines += [f"## {system}", "", contracts.system_descriptions[system], ""]
        for e in by_system[system]:
            lines += _entity(e, contracts)
    lines += ["## Code lists", "", "Shared code lists (`sources/contracts/_codes.yml`), checked case-insensitively."]
    lines.append("")
    lines += [f"- `{name}`: {', '.join(f'`{v}`' for v in values)}" for name, values in contracts.codes.items()]
    return "\n".join(lines).rstrip("\n") + "\n"
