"""DuckDB reads the landed files in the contract's own layout: CSV (``read_csv``) and JSON lines
(``read_json_objects``), many files in one scan, straight into ``_rec`` (``validate.py``) without a
value passing through Python.

A file is read this way when it is plainly encoded (UTF-8, no byte-order mark, no NUL) and every
physical line after its header is one record, so each row's line number follows from its place in
the file. DuckDB must find exactly the records the lines promise; any file where it does not, or
that it cannot read (a short row, a quoted line break, a blank line, bad JSON, a key the contract
does not know), is read again by the Python readers, which say which line is wrong and why.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.ingestion.contracts import Entity

_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])  # as validate.py's _CONTROL
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
# The longest line DuckDB is asked to read: a longer one goes to the Python reader, which refuses
# a field over ``csv.field_size_limit()`` (128 KiB) by name.
_MAX_LINE = 131_072


@dataclass
class NativeFile:
    """A landed file DuckDB can read; ``data`` is kept so that the fallback reads the same bytes."""

    path: Path
    fmt: str  # csv or jsonl
    columns: list[str]  # CSV: the header as found; JSON lines: the contract's columns
    rows: int  # records its lines promise
    data: bytes
    # No control character (but tab and line breaks) in its bytes, so its rows need no test for one.
    clean: bool = False


def plain(path: Path, fmt: str, data: bytes, expected: list[str]) -> NativeFile | None:
    """A ``NativeFile`` when DuckDB can read ``data``, else None (the Python readers will)."""
    if fmt not in ("csv", "jsonl") or not data or data.startswith(_BOMS) or b"\x00" in data:
        return None
    if data.count(b"\r") != data.count(b"\r\n"):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    clean = len(data.translate(None, _CONTROL_BYTES)) == len(data)
    if fmt == "jsonl":
        # Every key is written '"key":' (no space before its colon) and there are exactly as many as
        # the contract's columns on every line: with the strict scan (every contract key on every
        # line) no line can hold another key, which the scan would otherwise drop unseen.
        if b'" ' in data or b'"\t' in data or data.count(b'":') != lines * len(expected):
            return None
        return NativeFile(path, fmt, expected, lines, data, clean)
    header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")]), [])
    if not header:
        return None
    return NativeFile(path, fmt, [h.strip() for h in header], lines - 1, data, clean)


def _csv_scan(files: list[str], columns: list[str]) -> str:
    cols = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in columns) + "}"
    listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    return (
        f"select * from read_csv({listed}, columns = {cols}, header = true, delim = ',', quote = '\"', "
        f"escape = '\"', auto_detect = false, strict_mode = true, null_padding = false, "
        f"max_line_size = {_MAX_LINE}, filename = true)"
    )


def _jsonl_scan(files: list[str], columns: list[str]) -> str:
    listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    shape = "{" + ", ".join(f'"{c}": "VARCHAR"' for c in columns) + "}"
    values = ", ".join(f'j."{c}" as "{c}"' for c in columns)
    # Strict: a line that is not an object, or lacks one of the contract's keys, fails the scan
    # (the file then goes to the Python reader); ``plain`` has made sure no line has other keys.
    return f"""
        select {values}, filename from (
            select json_transform_strict(json, '{shape}') as j, filename
            from read_json_objects({listed}, format = 'newline_delimited', filename = true)
        )
    """


def read(con: duckdb.DuckDBPyConnection, entity: Entity, files: dict[int, NativeFile]) -> dict[int, int]:
    """Read ``files`` (by delivery) and add their rows to ``_rec`` (``validate.create_input``);
    returns the rows found in each delivery read. Those it leaves out, DuckDB could not read
    exactly: the Python readers read them."""
    failed: set[int] = set()
    groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for d, f in files.items():
        groups.setdefault((f.fmt, tuple(f.columns)), []).append(d)
    parts = []
    for g, ((fmt, columns), ds) in enumerate(groups.items()):
        found, part = _read_group(con, g, fmt, list(columns), {d: files[d] for d in ds})
        failed |= found
        parts += part
    names = ", ".join(f'"{c.name}"' for c in entity.columns)
    con.execute(
        "create or replace temp view _rec as "
        + " union all ".join([f"select _d, _src, {names} from {p}" for p in ["_rec_py", *parts]])
    )
    tables = [t for (t,) in con.execute(_NATIVE_TABLES).fetchall() if t.endswith("_files")]
    found = " union all ".join(f"select _d, found from {t} where not wrong" for t in tables)
    return dict(con.execute(found).fetchall()) if tables else {}


_NATIVE_TABLES = "select table_name from duckdb_tables() where temporary and starts_with(table_name, '_native_')"


def drop(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the scans of an earlier batch (``_rec`` reads them)."""
    for (table,) in con.execute(_NATIVE_TABLES).fetchall():
        con.execute(f"drop table {table}")


def _read_group(
    con: duckdb.DuckDBPyConnection, g: int, fmt: str, columns: list[str], files: dict[int, NativeFile]
) -> tuple[set[int], list[str]]:
    """One scan of files sharing a format and header into ``_native_<g>``; (the deliveries it could
    not read exactly, the relations that give the others' rows as ``_rec`` has them)."""
    scan: Callable[[list[str], list[str]], str] = _csv_scan if fmt == "csv" else _jsonl_scan
    # Line numbers come from each row's place in the scan (its rowid in ``_native_<g>``).
    con.execute("set preserve_insertion_order = true")
    table = f"_native_{g}"
    try:
        con.execute(f"create or replace temp table {table} as {scan([str(f.path) for f in files.values()], columns)}")
    except duckdb.Error:
        if len(files) == 1:
            return set(files), []
        failed: set[int] = set()
        parts: list[str] = []
        for n, (d, f) in enumerate(files.items()):  # one file spoils the scan: find which, one by one
            found, part = _read_group(con, g * 100_000 + n + 1, fmt, columns, {d: f})
            failed |= found
            parts += part
        return failed, parts
    listed = pa.table(
        {
            "filename": pa.array([str(f.path) for f in files.values()], type=pa.string()),
            "_d": pa.array(list(files), type=pa.int32()),
            "expected": pa.array([f.rows for f in files.values()], type=pa.int64()),
        }
    )
    con.register("_native_files", listed)
    try:
        # Each file's rows: how many, and the rowid of its first (line 2 of a CSV, line 1 of JSON lines).
        con.execute(
            f"""
            create or replace temp table {table}_files as
            select m.filename, m._d, count(n.filename) as found, min(n.rowid) as first_rowid,
                count(n.filename) <> any_value(m.expected) as wrong
            from _native_files m left join {table} n using (filename) group by m.filename, m._d
            """
        )
    finally:
        con.unregister("_native_files")
    failed = {d for (d,) in con.execute(f"select _d from {table}_files where wrong").fetchall()}
    first_line = 2 if fmt == "csv" else 1  # line 1 of a CSV file is its header
    names = ", ".join(f'"{c}"' for c in columns)
    part = (
        f"(select m._d, n.rowid - m.first_rowid + {first_line} as _src, {names} "
        f"from {table} n join {table}_files m using (filename) where not m.wrong)"
    )
    return failed, [part]
