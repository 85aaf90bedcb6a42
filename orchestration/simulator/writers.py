"""Byte-deterministic writers for the landed formats: CSV, JSON lines, XLSX and JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

from orchestration.ingestion.contracts import Entity

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+(\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
ZIP_TIME = (2020, 1, 1, 0, 0, 0)

# A CSV body line is either a list of fields or, for a deliberately malformed row, raw text.
Line = list[str | None] | str


def csv_line(fields: list[str | None]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["" if f is None else f for f in fields])
    return buf.getvalue()[:-1]


def csv_bytes(header: list[str], lines: list[Line], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for line in lines:
        if isinstance(line, str):
            buf.write(line + "\n")
        else:
            writer.writerow(["" if f is None else f for f in line])
    return buf.getvalue().encode(encoding)


def _json_value(value: str | None, ctype: str) -> object:
    if value is None:
        return None
    if ctype == "int" and _INT.fullmatch(value):
        return int(value)
    if ctype == "float" and _FLOAT.fullmatch(value):
        return float(value) if "." in value else int(value)
    if ctype == "bool" and value in ("Y", "N"):
        return value == "Y"
    return value


def jsonl_bytes(entity: Entity, rows: list[list[str | None]]) -> bytes:
    names = [c.name for c in entity.columns]
    types = [c.type for c in entity.columns]
    out = []
    for row in rows:
        obj = {n: _json_value(v, t) for n, v, t in zip(names, row, types, strict=True)}
        out.append(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
    # A month with no records is one blank line: a 0-byte file is refused as a failed transfer.
    return ("\n".join(out) + "\n").encode("utf-8") if out else b"\n"


def _cell(value: str | None, ctype: str) -> object:
    """Typed Excel cell; text that does not parse (a fault) stays text."""
    if value is None:
        return None
    if ctype == "int" and _INT.fullmatch(value):
        return int(value)
    if ctype == "float" and _FLOAT.fullmatch(value):
        return float(value)
    if ctype == "date" and _DATE.fullmatch(value):
        return dt.date.fromisoformat(value)
    if ctype == "timestamp" and _STAMP.fullmatch(value):
        return dt.datetime.fromisoformat(value)
    return value


def xlsx_bytes(
    sheets: list[tuple[str, list[str], list[str], list[list[str | None]]]], stamp: dt.datetime
) -> bytes:
    """sheets: (sheet name, header, column types, rows). Fixed document times and zip entry
    times make the bytes depend on the content alone."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook(write_only=True)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "Golden Thread simulator"
    for name, header, types, rows in sheets:
        ws = wb.create_sheet(name)
        ws.append(header)
        for row in rows:
            ws.append([_cell(v, t) for v, t in zip(row, types, strict=True)])
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():  # openpyxl's member order is stable
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


def json_bytes(doc: object) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
