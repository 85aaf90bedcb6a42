"""Read landed files into string-valued frames without interpreting values.

Readers never drop a row: every physical data row becomes either a record (with its row
number) or a ``Malformed`` entry that the engine quarantines. Typing and validation happen
later, in one place (``validate.py``).
"""

from __future__ import annotations

import contextvars
import csv
import hashlib
import io
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from orchestration.ingestion.contracts import Entity
from orchestration.ingestion.native import NativeFile, plain

ROW_COLUMN = "_source_row"


@dataclass
class Malformed:
    row: int
    reason: str
    raw_text: str


@dataclass
class ReadResult:
    """What a reader (or a real-data adapter) hands to the engine.

    ``columns`` is the header as found in the file (for the schema check); ``records`` holds
    one row per parsed data row, every value a ``str`` or ``None``, plus ``_source_row``.
    """

    columns: list[str]
    records: pd.DataFrame
    malformed: list[Malformed] = field(default_factory=list)
    encoding: str = "utf-8"
    warnings: list[str] = field(default_factory=list)
    # A multi-month file read through a mapping: each record's month (index-aligned), else None.
    row_periods: pd.Series | None = None
    # A file DuckDB reads itself when it is loaded (``native.py``): ``records`` stays empty.
    native: NativeFile | None = None

    @property
    def rows_received(self) -> int:
        if self.native is not None:
            return self.native.rows
        return len(self.records) + len(self.malformed)


# Byte-order marks, longest first (a UTF-32 LE mark begins with the UTF-16 LE one).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32 LE"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32 BE"),
    (b"\xef\xbb\xbf", "utf-8-sig", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16 LE"),
    (b"\xfe\xff", "utf-16-be", "UTF-16 BE"),
)


def decode(data: bytes, name: str | None = None) -> tuple[str, str, list[str]]:
    """Decode a text extract; returns (text, the encoding's name for the log, warnings).

    UTF-8 without a byte-order mark is the norm and gets no warning. Anything else is decoded
    and named with a warning: a byte-order mark (UTF-8, UTF-16 or UTF-32), UTF-16 without one
    (recognised by its zero bytes: ASCII text in UTF-16 has one in every pair), and otherwise
    Windows-1252, which decodes any bytes. A rule rather than a statistical detector
    (charset-normalizer): these are the encodings extracts arrive in, the rule gives the same
    answer every time and costs nothing on a large file.

    Text that its byte-order mark says is UTF-16 (or 32) but is not raises ``SchemaError``.
    """
    prefix = f"{name}: " if name else ""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec.removesuffix("-sig"))
            except UnicodeDecodeError as exc:
                raise SchemaError(
                    f"{prefix}begins with a {label} byte-order mark but is not valid {label} "
                    f"(byte {exc.start + len(bom)}): {exc.reason}"
                ) from exc
            return text, codec, [f"encoded as {label} with a byte-order mark, not plain UTF-8; decoded as {label}"]
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        codec, label, text = utf16
        return text, codec, [f"encoded as {label} without a byte-order mark (by its zero bytes); decoded as {label}"]
    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError as exc:
        text = data.decode("cp1252", errors="replace")
        return text, "cp1252", [f"not valid UTF-8 (byte {exc.start}); decoded as Windows-1252"]


def _utf16_without_bom(data: bytes) -> tuple[str, str, str] | None:
    """(codec, label, text) when ``data`` looks like UTF-16 (a zero byte in at least 40% of the
    leading pairs, all on the same side) and decodes as such; otherwise None."""
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2 or len(data) % 2:
        return None
    zero_even, zero_odd = sample[0 : 2 * pairs : 2].count(0), sample[1 : 2 * pairs : 2].count(0)
    sides = ((zero_odd, zero_even, "utf-16-le", "UTF-16 LE"), (zero_even, zero_odd, "utf-16-be", "UTF-16 BE"))
    for zeros, other, codec, label in sides:
        if zeros >= 0.4 * pairs and other <= 0.05 * pairs:
            try:
                return codec, label, data.decode(codec)
            except UnicodeDecodeError:
                return None
    return None


# What a file is when its first bytes say so (and it is not the text or workbook it is named as).
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (such as an .xlsx workbook)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"%PDF-", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 (.xls) or password-protected workbook"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)
# C0 control bytes that text does not hold (tab, line feed, form feed and carriage return aside).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20)])


def sniff(data: bytes, fmt: str) -> str | None:
    """Why ``data`` cannot be a ``fmt`` file (``csv``, ``jsonl``, ``json`` or ``xlsx``), from its
    first bytes; None when it may be one. Catches a file saved under the wrong extension before a
    reader turns it into mojibake or a misleading schema message."""
    kind = next((what for magic, what in _SIGNATURES if data.startswith(magic)), None)
    if fmt == "xlsx":
        if data.startswith(b"PK\x03\x04"):
            return None
        if kind is None:
            sample = data[:4096]
            text = len(sample.translate(None, _CONTROL_BYTES)) == len(sample)
            kind = "text (perhaps a CSV file)" if text else "neither text nor a ZIP archive"
        return f"is {kind}, not an Excel workbook (.xlsx)"
    if kind is not None:
        return f"is {kind}, not a {fmt.upper()} text file"
    if any(data.startswith(bom) for bom, _, _ in _BOMS) or _utf16_without_bom(data[:4096]) is not None:
        return None
    sample = data[:8192]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > 0.1 * len(sample):
        return f"is binary ({controls} of its first {len(sample)} bytes are control bytes), not {fmt.upper()} text"
    return None


def _frame(columns: list[str], rows: list[list[str | None]], row_numbers: list[int]) -> pd.DataFrame:
    df = (
        pd.DataFrame(rows, columns=columns, dtype=object)
        if rows
        else pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    )
    df[ROW_COLUMN] = pd.Series(row_numbers, dtype="int64")
    return df


def _column_frame(columns: list[str], values: list[list[str | None]], row_numbers: list[int]) -> pd.DataFrame:
    """Like ``_frame`` but from one list per column, which is much cheaper to build than from rows."""
    if not row_numbers:
        return _frame(columns, [], [])
    cells = np.empty((len(row_numbers), len(columns)), dtype=object)
    for i, v in enumerate(values):
        cells[:, i] = v
    df = pd.DataFrame(cells, columns=columns, dtype=object, copy=False)
    df[ROW_COLUMN] = pd.Series(row_numbers, dtype="int64")
    return df


def read_csv_text(text: str, *, delimiter: str = ",") -> ReadResult:
    """Parse CSV text; rows with the wrong number of fields become ``Malformed``.

    Row numbers are physical line numbers (header = 1) so an auditor can open the file at
    that line. Empty strings become ``None``.
    """
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(_records(reader), None)
    if header is None:
        return ReadResult([], _frame([], [], []))
    header = [h.strip() for h in header]
    width = len(header)
    rows: list[list[str]] = []
    numbers: list[int] = []
    malformed: list[Malformed] = []
    lines: list[str] | None = None  # split only when a malformed row needs its text
    start_line = reader.line_num + 1
    for record in _records(reader):
        end_line = reader.line_num
        if not record:  # blank line: not a data row
            start_line = end_line + 1
            continue
        if len(record) != width:
            if lines is None:
                lines = text.splitlines(keepends=True)
            raw = "".join(lines[start_line - 1 : end_line]).rstrip("\r\n")
            malformed.append(Malformed(start_line, f"expected {width} fields, found {len(record)}", raw))
        else:
            rows.append(record)
            numbers.append(start_line)
        start_line = end_line + 1
    # Column-wise: transpose once, then "" -> None per column (every value is a str here).
    columns = [[v or None for v in col] for col in zip(*rows, strict=True)] if rows else []
    return ReadResult(header, _column_frame(header, columns, numbers), malformed)


def _records(reader: Any) -> Iterator[list[str]]:
    """The csv reader's records; its errors (a value longer than ``csv.field_size_limit()``)
    become a ``SchemaError`` naming the line: the parser cannot carry on past one."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field limit" in str(exc):
                raise SchemaError(
                    f"line {reader.line_num}: a value is longer than the {csv.field_size_limit():,} characters "
                    "a CSV field may hold (perhaps an unclosed quote)"
                ) from exc
            raise SchemaError(f"line {reader.line_num}: not readable as CSV: {exc}") from exc


def read_csv_file(path: Path, *, delimiter: str = ",", data: bytes | None = None) -> ReadResult:
    text, encoding, warnings = decode(path.read_bytes() if data is None else data, path.name)
    try:
        result = read_csv_text(text, delimiter=delimiter)
    except SchemaError as exc:
        raise SchemaError(f"{path.name}: {exc}") from exc
    result.encoding, result.warnings = encoding, warnings
    return result


def _scalar(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    text = str(value)
    return text if text != "" else None


def read_jsonl_file(path: Path, expected: list[str], data: bytes | None = None) -> ReadResult:
    """JSON lines: one object per line; a line that is not a JSON object is ``Malformed``."""
    text, encoding, warnings = decode(path.read_bytes() if data is None else data, path.name)
    key_orders: dict[tuple, None] = {}
    rows: list[dict] = []
    numbers: list[int] = []
    malformed: list[Malformed] = []
    fast, exact = orjson.loads, _ORJSON_EXACT.issuperset
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            try:  # orjson where it reads exactly as json.loads does (see _ORJSON_EXACT)
                obj = fast(line)
            except orjson.JSONDecodeError:
                obj = json.loads(line)
            else:
                if type(obj) is dict and not exact(map(type, obj.values())):
                    obj = json.loads(line)
        except json.JSONDecodeError as exc:
            malformed.append(Malformed(number, f"not valid JSON: {exc.msg}", line))
            continue
        if not isinstance(obj, dict):
            malformed.append(Malformed(number, "line is not a JSON object", line))
            continue
        key_orders[tuple(obj)] = None
        rows.append(obj)
        numbers.append(number)
    # The header of a JSONL file is the union of keys seen, in order of first appearance; keys
    # the contract expects but no line has are reported by the schema check as missing.
    seen: dict[str, None] = {}
    for keys in key_orders:
        seen.update(dict.fromkeys(keys))
    columns = list(seen) or list(expected)
    if len(key_orders) == 1 and columns == list(seen):  # every line has these keys, in this order
        values = [_scalar_column(list(column)) for column in zip(*map(dict.values, rows), strict=True)]
    else:
        values = [_scalar_column([r.get(c) for r in rows]) for c in columns]
    return ReadResult(columns, _column_frame(columns, values, numbers), malformed, encoding, warnings)


# The value types orjson gives exactly as ``json.loads`` does. It reads an integer beyond 64 bits
# as a float (``json.loads``: an int), and refuses NaN, Infinity and lone surrogates, which
# ``json.loads`` accepts: a line with any other value type, or that orjson refuses, is read again
# by ``json.loads``, so the result (and a malformed line's message) is always ``json.loads``'s.
_ORJSON_EXACT = frozenset({str, int, bool, type(None)})


def _first_keys(data: bytes) -> set[str] | None:
    """The keys of a JSON-lines file's first line (None when it is not an object)."""
    try:
        obj = orjson.loads(data.split(b"\n", 1)[0])
    except orjson.JSONDecodeError:
        return None
    return set(obj) if isinstance(obj, dict) else None


def _scalar_column(values: list[object]) -> list[str | None]:
    """``_scalar`` over a column; strings and integers (nearly every value) take the short way."""
    return [(v or None) if type(v) is str else str(v) if type(v) is int else _scalar(v) for v in values]


# Workbooks kept open by ``shared_workbooks`` (None outside it), by path and content.
_open_workbooks: contextvars.ContextVar[dict[tuple[str, bytes], Any] | None] = contextvars.ContextVar(
    "_open_workbooks", default=None
)


@contextmanager
def shared_workbooks() -> Iterator[None]:
    """Inside this block a workbook is opened once for all the sheets read from it.

    One extract often holds several entities (the HR workbook has three sheets), and opening a
    workbook reads its shared strings and styles for every sheet.
    """
    cache: dict[tuple[str, bytes], Any] = {}
    token = _open_workbooks.set(cache)
    try:
        yield
    finally:
        _open_workbooks.reset(token)
        for wb in cache.values():
            wb.close()


def read_xlsx_sheet(path: Path, sheet: str, data: bytes | None = None) -> ReadResult:
    """One worksheet; the first row is the header, row numbers are sheet rows (header = 1).

    Read with calamine (a compiled reader): about 30 times faster than openpyxl, which read the
    national HR workbooks at about 6k rows a second. Cells come typed as Excel stores them (a
    number is a float, a date-formatted number a date or datetime) and are written out as text
    as before (``_xlsx_value``); an empty cell is ``None``.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    cache = _open_workbooks.get()
    if data is None and cache is not None:
        data = path.read_bytes()
    key = (str(path), hashlib.sha256(data).digest()) if cache is not None and data is not None else None
    wb = cache.get(key) if cache is not None and key is not None else None
    if wb is None:
        try:
            if data is None:
                wb = CalamineWorkbook.from_path(str(path))
            else:
                wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except CalamineError as exc:
            raise SchemaError(f"{path.name}: not a readable Excel workbook ({type(exc).__name__}: {exc})") from exc
        if cache is not None and key is not None:
            cache[key] = wb
    try:
        if sheet not in wb.sheet_names:
            raise SchemaError(f"{path.name}: worksheet {sheet!r} not found (sheets: {', '.join(wb.sheet_names)})")
        # From A1, so that a row's place in the list is its sheet row (less one).
        grid = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except CalamineError as exc:
        raise SchemaError(f"{path.name}: worksheet {sheet!r} is not readable ({type(exc).__name__}: {exc})") from exc
    finally:
        if key is None:
            wb.close()
    cells_of = ([_xlsx_value(v) for v in values] for values in grid)
    header_cells = next(cells_of, None) or []
    # A blank header cell keeps its place (a column with no name, which the schema check reports),
    # so that the cells after it stay under their own headers; blank cells at the end are no column.
    header = [h.strip() if h is not None else "" for h in header_cells]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    malformed: list[Malformed] = []
    for number, cells in enumerate(cells_of, start=2):
        if all(v is None for v in cells):
            continue
        if len(cells) > width and any(v is not None for v in cells[width:]):
            malformed.append(
                Malformed(
                    number,
                    f"values beyond the {width} header columns",
                    "\t".join("" if v is None else v for v in cells),
                )
            )
            continue
        rows.append((cells + [None] * width)[:width])
        numbers.append(number)
    return ReadResult(header, _frame(header, rows, numbers), malformed)


def _xlsx_value(value: object) -> str | None:
    import datetime as dt

    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _scalar(value)


def read_json_records(path: Path, json_path: str, expected: list[str], data: bytes | None = None) -> ReadResult:
    """A JSON document; ``json_path`` is ``"key"`` or ``"key[].child"``.

    Each record keeps its own fields (so an unexpected field is reported as schema drift) plus
    the fields its document or parent hold that the contract expects (``financial_year`` at the
    top, ``activity_id`` on a parent). Lists of objects are children, never values; lists of
    scalars (labels) are joined with ';'.
    """
    text, encoding, warnings = decode(path.read_bytes() if data is None else data, path.name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path.name}: not valid JSON at line {exc.lineno}: {exc.msg}") from exc
    parts = json_path.split("[].")
    top = doc.get(parts[0]) if isinstance(doc, dict) else None
    if not isinstance(top, list):
        raise SchemaError(f"{path.name}: expected a list under {parts[0]!r}")

    def own(obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not _is_children(v)}

    def inherited(obj: dict) -> dict:
        return {k: v for k, v in own(obj).items() if k in expected}

    document = inherited(doc)
    records: list[dict] = []
    numbers: list[int] = []
    for i, item in enumerate(top, start=1):
        if not isinstance(item, dict):
            raise SchemaError(f"{path.name}: item {i} under {parts[0]!r} is not a JSON object")
        children = item.get(parts[1]) if len(parts) > 1 else None
        if children is not None and not (isinstance(children, list) and all(isinstance(c, dict) for c in children)):
            raise SchemaError(f"{path.name}: {parts[1]!r} of item {i} under {parts[0]!r} is not a list of objects")
        if len(parts) == 1:
            records.append({**document, **own(item)})
            numbers.append(i)
        else:
            parent = {**document, **inherited(item)}
            for j, child in enumerate(item.get(parts[1]) or [], start=1):
                records.append({**parent, **own(child)})
                numbers.append(i * 1000 + j)  # activity i, update j
    seen: list[str] = []
    for r in records:
        for k in r:
            if k not in seen:
                seen.append(k)
    values = [[_scalar(r.get(c)) for c in seen] for r in records]
    return ReadResult(seen or list(expected), _frame(seen or list(expected), values, numbers), [], encoding, warnings)


def _is_children(value: object) -> bool:
    return isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict) for v in value))


class SchemaError(Exception):
    """A file that cannot be read, or matched to its contract at all: the whole file is refused.
    The message names the file and the cause."""


_REVISION = re.compile(r"_r(\d+)$")


def parse_file_name(entity: Entity, file_name: str) -> tuple[str, int] | None:
    """``<stem>_<period>[_r<N>].<ext>`` → (period, revision); None if the name does not match."""
    suffix = "." + entity.extension
    if not (file_name.startswith(entity.stem + "_") and file_name.endswith(suffix)):
        return None
    middle = file_name[len(entity.stem) + 1 : -len(suffix)]
    revision = 1
    m = _REVISION.search(middle)
    if m:
        revision = int(m.group(1))
        middle = middle[: m.start()]
    patterns = {
        "monthly": r"\d{4}-\d{2}",
        "snapshot": r"\d{4}-\d{2}-\d{2}",
        "financial_year": r"FY\d{4}-\d{2}",
    }
    if not re.fullmatch(patterns[entity.delivery], middle):
        return None
    return middle, revision


# What reading a landed file gives: its size in bytes, its SHA-256 ("" when it could not be read at
# all), and either its rows or why the file is refused.
LandedRead = tuple[int, str, "ReadResult | None", "str | None"]

_FORMAT_NAMES = {"csv": "CSV", "jsonl": "JSON lines", "json": "JSON", "xlsx": "Excel workbook"}


def read_landed(entity: Entity, path: Path, *, native: bool = False) -> LandedRead:
    """Read and parse one landed file (``read_entity_file``), with its size and hash.

    Never raises for the file's sake: whatever stops it being read (a link, an empty file, the
    wrong format for its extension, a corrupt workbook, a value too long for the CSV parser, or
    any other error in a reader) is returned as the reason it is refused, naming the file, so
    that the files beside it are still loaded and logged. With ``native``, a file DuckDB can read
    is only checked here and read by DuckDB when it is loaded (``native.py``).
    """
    return read_file(path, entity.format, lambda data: read_entity_file(entity, path, data, native=native))


def read_file(path: Path, fmt: str, parse: Callable[[bytes], ReadResult]) -> LandedRead:
    """``read_landed``'s checks and refusals around any parser of a file's bytes (``fmt``: ``csv``,
    ``jsonl``, ``json`` or ``xlsx``, what the bytes must be); a service's own layout is read
    through its mapping this way too."""
    try:
        data = _read_regular_file(path)
    except OSError as exc:
        return 0, "", None, f"{path.name}: could not be read: {exc.strerror or exc}"
    except SchemaError as exc:
        return 0, "", None, str(exc)
    sha = hashlib.sha256(data).hexdigest()
    if not data:
        return 0, sha, None, f"{path.name}: empty file (0 bytes); a delivery with no rows still has its header"
    wrong = sniff(data, fmt)
    if wrong:
        return len(data), sha, None, f"{path.name}: {wrong}"
    return (len(data), sha, *parse_bytes(path, fmt, data, parse))


def parse_bytes(
    path: Path, fmt: str, data: bytes, parse: Callable[[bytes], ReadResult]
) -> tuple[ReadResult | None, str | None]:
    """``parse(data)``, or the reason the file cannot be read, naming it."""
    try:
        return parse(data), None
    except SchemaError as exc:
        return None, str(exc)
    except Exception as exc:  # a reader's bug or a library's error on odd bytes: refuse this file only
        what = _FORMAT_NAMES.get(fmt, fmt)
        return None, f"{path.name}: could not be read as {what}: {type(exc).__name__}: {exc}"


def parse_native(entity: Entity, result: ReadResult) -> tuple[ReadResult | None, str | None]:
    """A file left to DuckDB, read by the Python readers instead (from the same bytes)."""
    nf = result.native
    assert nf is not None
    return parse_bytes(nf.path, entity.format, nf.data, lambda data: read_entity_file(entity, nf.path, data))


def _read_regular_file(path: Path) -> bytes:
    """The file's bytes, refusing a symbolic link or anything but a regular file (a FIFO would
    block the read), however the file was listed: the check and the read are one open."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if path.is_symlink():
            raise SchemaError(f"{path.name}: a symbolic link; refused unread") from exc
        raise
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SchemaError(f"{path.name}: not a regular file; refused unread")
        return f.read()


def read_entity_file(entity: Entity, path: Path, data: bytes | None = None, *, native: bool = False) -> ReadResult:
    """Read one landed file; ``data`` is its content when the caller has already read it. With
    ``native``, a file DuckDB can read comes back unparsed, for DuckDB (``native.py``)."""
    if native and data is not None:
        expected = [c.name for c in entity.columns]
        found = plain(path, entity.format, data, expected)
        if found is not None and (entity.format == "csv" or _first_keys(data) == set(expected)):
            return ReadResult(found.columns, pd.DataFrame(), native=found)
    if entity.format == "csv":
        return read_csv_file(path, data=data)
    if entity.format == "jsonl":
        return read_jsonl_file(path, [c.name for c in entity.columns], data=data)
    if entity.format == "xlsx":
        assert entity.sheet
        return read_xlsx_sheet(path, entity.sheet, data=data)
    if entity.format == "json":
        assert entity.json_path
        return read_json_records(path, entity.json_path, [c.name for c in entity.columns], data=data)
    raise ValueError(entity.format)
