"""What each dbt build was built from (a fingerprint per model, seed, snapshot, test, unit test,
project macro and the project's vars), and which changes since the last build leave months stale."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Config keys that say how a node is documented or labelled, not what it computes.
DOCS_ONLY_CONFIG = frozenset({"docs", "persist_docs", "tags", "group"})
# Pseudo-definition for ``dbt_project.yml``'s ``vars``: any model may read them with ``var()``.
VARS_ID = "vars"


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _node_fingerprint(node: Mapping[str, Any]) -> str:
    """What a node computes or checks: its code's checksum (generic tests have none: their test,
    arguments and tested node instead), its config and its columns' types, never descriptions."""
    config = {k: v for k, v in (node.get("config") or {}).items() if k not in DOCS_ONLY_CONFIG}
    checksum = node.get("checksum")  # {"name": "sha256", "checksum": ...}; a unit test's is the digest itself
    return _digest(
        {
            "checksum": checksum.get("checksum") if isinstance(checksum, Mapping) else checksum,
            "config": config,
            "columns": {name: col.get("data_type") for name, col in (node.get("columns") or {}).items()},
            "test": node.get("test_metadata"),
            "attached_node": node.get("attached_node"),
            # A unit test's fixtures are in its checksum; what it tests is not.
            "model": node.get("model") if node.get("resource_type") == "unit_test" else None,
        }
    )


def fingerprints(manifest: Mapping[str, Any], project_vars: Mapping[str, Any] | None = None) -> dict[str, str]:
    """unique_id -> fingerprint of every definition a build uses: models, seeds, snapshots, tests,
    unit tests, sources, the project's own macros (their ``macro_sql``: macros have no checksum)
    and, under ``VARS_ID``, the project's vars. dbt's own macros change only with dbt."""
    project = manifest["metadata"]["project_name"]
    found = {uid: _node_fingerprint(node) for uid, node in manifest["nodes"].items()}
    found |= {uid: _node_fingerprint(node) for uid, node in manifest.get("unit_tests", {}).items()}
    found |= {
        uid: _digest({"schema": s.get("schema"), "identifier": s.get("identifier")})
        for uid, s in manifest.get("sources", {}).items()
    }
    found |= {
        uid: _digest(macro["macro_sql"])
        for uid, macro in manifest["macros"].items()
        if macro["package_name"] == project
    }
    found[VARS_ID] = _digest(dict(project_vars or {}))
    return found


@dataclass(frozen=True)
class HistoryChanges:
    """The definitions changed since the last build that leave stored months stale."""

    changed: list[str]  # unique ids, sorted

    def __bool__(self) -> bool:
        return bool(self.changed)

    def describe(self, limit: int = 5) -> str:
        """``model int_x, seed kpi_catalogue, ...``: what a person recognises from the project's files."""
        names = [_readable(uid) for uid in self.changed[:limit]]
        return ", ".join(names) + (", ..." if len(self.changed) > limit else "")


def _readable(unique_id: str) -> str:
    if unique_id == VARS_ID:
        return "dbt_project.yml vars"
    kind, _, rest = unique_id.partition(".")
    name = rest.split(".", 1)[1] if "." in rest else rest
    return f"{kind.replace('_', ' ')} {name}"


def is_history_bearing(node: Mapping[str, Any], nodes: Mapping[str, Mapping[str, Any]]) -> bool:
    """A node whose stored rows (or whose checks of them) an ordinary build does not all redo:

    - an incremental model or a snapshot: a close recomputes only the months it is asked to, so a
      changed definition would apply from that month on and every earlier month stay as it was;
    - a generic test on an incremental model: ``macros/get_where_subquery.sql`` narrows it, in a
      build, to rows no successful build has tested, so a new or changed rule would never read old
      months.

    Not history-bearing: views and tables (rebuilt whole every build), seeds (reloaded whole),
    singular tests and other generic tests (they read every row), unit tests (they read only their
    own fixtures). A change to those matters only through what it feeds (see ``history_changes``)."""
    kind = node["resource_type"]
    if kind == "snapshot":
        return True
    if kind == "model":
        return (node.get("config") or {}).get("materialized") == "incremental"
    if kind == "test" and node.get("test_metadata"):
        tested = nodes.get(node.get("attached_node") or "")
        if tested is None:
            return False
        config = tested.get("config") or {}
        return config.get("materialized") == "incremental"
    return False


def _macro_names(manifest: Mapping[str, Any]) -> dict[str, str]:
    project = manifest["metadata"]["project_name"]
    return {m["name"]: uid for uid, m in manifest["macros"].items() if m["package_name"] == project}


def _macros_called(
    code: str, listed: Iterable[str], pattern: re.Pattern | None, by_name: Mapping[str, str]
) -> set[str]:
    """The project macros a piece of Jinja calls: those dbt lists in ``depends_on`` and those named
    in the code. dbt's list misses some calls (a macro called from a model's select list, seen in
    this project), so the name in the text counts too."""
    called = set(listed)
    if pattern is not None:
        called |= {by_name[name] for name in pattern.findall(code or "")}
    return called


def history_reach(manifest: Mapping[str, Any]) -> set[str]:
    """The unique ids whose change leaves stored months stale: every history-bearing node, every
    node upstream of one (through ``depends_on``: models, seeds, snapshots, sources), every project
    macro such a node calls (directly or through other macros), every project macro no node calls
    (dbt calls it itself: a materialization, an incremental strategy, ``generate_schema_name``,
    a hook: it may touch any model), and the project's vars (any model may read one)."""
    nodes = manifest["nodes"]
    macros = manifest["macros"]
    by_name = _macro_names(manifest)
    pattern = (
        re.compile(r"\b(" + "|".join(map(re.escape, sorted(by_name, key=len, reverse=True))) + r")\b")
        if by_name
        else None
    )

    project = manifest["metadata"]["project_name"]
    called: dict[str, set[str]] = {}

    def calls(uid: str) -> set[str]:
        if uid not in called:
            item = nodes.get(uid) or macros.get(uid) or manifest.get("unit_tests", {}).get(uid) or {}
            listed = (item.get("depends_on") or {}).get("macros", [])
            # dbt's own macros name project macros only where the project overrides them, and dbt
            # lists those (get_where_subquery in every generic test).
            if item.get("package_name") != project:
                called[uid] = set(listed)
            else:
                code = item.get("macro_sql") if uid in macros else item.get("raw_code")
                called[uid] = _macros_called(code or "", listed, pattern, by_name)
        return called[uid]

    reach: set[str] = set()
    stack = [uid for uid, node in nodes.items() if is_history_bearing(node, nodes)]
    while stack:  # upstream of the history-bearing nodes
        uid = stack.pop()
        if uid in reach:
            continue
        reach.add(uid)
        stack.extend((nodes.get(uid) or {}).get("depends_on", {}).get("nodes", []))

    def macro_closure(start: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        stack = list(start)
        while stack:
            uid = stack.pop()
            if uid in seen or uid not in macros:
                continue
            seen.add(uid)
            stack.extend(calls(uid))
        return seen

    everywhere = list(nodes) + list(manifest.get("unit_tests", {}))
    called_anywhere = macro_closure(m for uid in everywhere for m in calls(uid))
    uncalled = [uid for uid in by_name.values() if uid not in called_anywhere]
    macro_reach = macro_closure([m for uid in reach for m in calls(uid)] + uncalled)
    return reach | macro_reach | {VARS_ID}


def history_changes(
    manifest: Mapping[str, Any], current: Mapping[str, str], recorded: Mapping[str, str]
) -> HistoryChanges:
    """The definitions in ``current`` (this build's fingerprints) that are new or differ from
    ``recorded`` (the last successful build's) and leave stored months stale (``history_reach``).

    A removed definition is not a change here: its table is no longer built, and whatever read it
    has changed its own code to stop. A new one is (a new test on an incremental model must read
    every earlier month once); a new incremental model alone needs no rebuild, but it comes with a
    change to what feeds or reads it, and the simple rule costs one rebuild."""
    reach = history_reach(manifest)
    changed = sorted(uid for uid, fp in current.items() if recorded.get(uid) != fp and uid in reach)
    return HistoryChanges(changed)
