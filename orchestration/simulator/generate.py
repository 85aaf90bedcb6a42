"""Generate every source-system extract for the configured services into a landing directory,
with optional injected faults and their ground-truth manifest.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import numpy as np

from orchestration.ingestion.contracts import FAULT_CLASS_NAMES, Entity, ManifestEntry, entity
from orchestration.simulator import catalogue as cat
from orchestration.simulator.catalogue import ServiceSpec
from orchestration.simulator.community import (
    generate_audits,
    generate_availability,
    generate_hfsv,
    generate_referrals,
)
from orchestration.simulator.config import Period, SimulatorConfig, fy_label, rng_for
from orchestration.simulator.faults import (
    FileSpec,
    Part,
    Plan,
    Planned,
    apply_fault,
    plan_record_faults,
    record_key,
)
from orchestration.simulator.frames import Frame, format_rows, take
from orchestration.simulator.incidents import generate_incidents, generate_mobilisations
from orchestration.simulator.org import build_org
from orchestration.simulator.planner import generate_deep_dives, generate_plans
from orchestration.simulator.workforce import generate_workforce
from orchestration.simulator.writers import (
    Line,
    csv_bytes,
    json_bytes,
    jsonl_bytes,
    write_bytes,
    xlsx_bytes,
)

SIM_DIR = "_simulator"


def _monthly(frame: Frame, column: str, months: list[tuple[int, int]]) -> list[tuple[str, Frame]]:
    keys = frame[column].astype("datetime64[M]")
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    out = []
    for y, m in months:
        key = np.datetime64(f"{y}-{m:02d}", "M")
        lo, hi = np.searchsorted(ordered, key, "left"), np.searchsorted(ordered, key, "right")
        out.append((f"{y}-{m:02d}", take(frame, order[lo:hi])))
    return out


def service_files(spec: ServiceSpec, period: Period, seed: int) -> list[FileSpec]:
    """Simulate one service and lay its extracts out as files (nothing written yet)."""
    sid = spec.service_id
    org = build_org(spec, period, rng_for(seed, spec, "reference"))
    inc = generate_incidents(org, period, rng_for(seed, spec, "irs"))
    mob = generate_mobilisations(org, inc, rng_for(seed, spec, "mobilising"))
    work = generate_workforce(org, period, rng_for(seed, spec, "hr"))
    monthly_frames: list[tuple[str, Frame]] = [
        ("irs__incidents", inc.frame),
        ("mobilising__mobilisations", mob),
        (
            "prevention__home_fire_safety_visits",
            generate_hfsv(org, period, rng_for(seed, spec, "prevention")),
        ),
        (
            "protection__fire_safety_audits",
            generate_audits(org, period, rng_for(seed, spec, "protection")),
        ),
        (
            "availability__oncall_availability",
            generate_availability(org, period, rng_for(seed, spec, "availability")),
        ),
        (
            "safeguarding__referrals",
            generate_referrals(org, period, rng_for(seed, spec, "safeguarding")),
        ),
    ]
    planner_rng = rng_for(seed, spec, "planner")
    plans = generate_plans(sid, period, planner_rng)
    deep_dives = generate_deep_dives(period, planner_rng)
    extract = period.extract_date.isoformat()

    def path(e: Entity, label: str) -> str:
        return f"{e.system}/{sid}/{e.stem}_{label}.{e.extension}"

    files: list[FileSpec] = []
    for table, frame in (
        ("reference__stations", org.stations),
        ("reference__wards", org.wards),
        ("reference__appliances", org.appliances),
        ("reference__ward_successors", org.ward_successors),
    ):
        e = entity(table)
        # Reference data stays clean: a broken station row would cascade into unknown codes.
        files.append(
            FileSpec(e.system, path(e, extract), e.format, [Part(e, frame)], faultable=False)
        )
    by_system: dict[str, list[FileSpec]] = {}
    for table, frame in monthly_frames:
        e = entity(table)
        assert e.period_column
        by_system[e.system] = [
            FileSpec(e.system, path(e, label), e.format, [Part(e, part)])
            for label, part in _monthly(frame, e.period_column, period.months)
        ]
    hr = [
        Part(entity("hr__staff"), work.staff),
        Part(entity("hr__absences"), work.absences),
        Part(entity("hr__cases"), work.cases),
    ]
    comp = entity("competence__records")
    act = entity("planner__activities")
    dd = entity("planner__deep_dive_actions")
    files += by_system["irs"] + by_system["mobilising"]
    files.append(FileSpec("hr", path(hr[0].entity, extract), "xlsx", hr))
    files.append(FileSpec("competence", path(comp, extract), "csv", [Part(comp, work.competence)]))
    for system in ("prevention", "protection", "availability", "safeguarding"):
        files += by_system[system]
    for fy, doc in plans.items():
        files.append(FileSpec("planner", path(act, f"FY{fy_label(fy)}"), "json", [], doc=doc))
    files.append(FileSpec("planner", path(dd, extract), "xlsx", [Part(dd, deep_dives)]))
    return files


# ------------------------------------------------------------------------- file-level faults
def _non_ascii(part: Part) -> bool:
    return any(v is not None and not str(v).isascii() for v in part.frame["property_type"])


def inject_file_faults(files: list[FileSpec], rng: np.random.Generator) -> list[ManifestEntry]:
    """Redelivery, cp1252 and schema drift, once each, on files then kept free of record faults."""
    entries: list[ManifestEntry] = []
    irs = [f for f in files if f.system == "irs" and f.parts[0].rows > 0]
    redelivered = None
    if irs:
        original = irs[max(0, len(irs) - 3)]  # a recent month, corrected after it was delivered
        redelivered = original
        corrected = {k: v.copy() for k, v in original.parts[0].frame.items()}
        n = len(corrected["incident_id"])
        rows = np.sort(rng.choice(n, size=min(4, n), replace=False))
        r2_path = original.rel_path.removesuffix(".csv") + "_r2.csv"
        details = []
        for r in rows.tolist():
            if corrected["motive"][r] is not None:
                old = corrected["motive"][r]
                new = [m for m in ("accidental", "deliberate", "not_known") if m != old][
                    int(rng.integers(2))
                ]
                col = "motive"
            elif corrected["incident_category"][r] == "special_service":
                col, old = "casualties_hospital_slight", corrected["casualties_hospital_slight"][r]
                new = old + 1
            else:
                col, old = "property_type", corrected["property_type"][r]
                types = [
                    t for t in cat.PROPERTY_TYPES[corrected["property_category"][r]] if t != old
                ]
                new = types[int(rng.integers(len(types)))]
            corrected[col][r] = new
            details.append((r, col, old, new))
        e = original.parts[0].entity
        r2 = FileSpec("irs", r2_path, "csv", [Part(e, corrected)], faultable=False)
        files.insert(files.index(original) + 1, r2)
        entries.append(
            ManifestEntry(
                "irs",
                r2_path,
                "redelivery",
                None,
                None,
                f"re-delivers {original.rel_path} with {len(details)} records corrected",
                {"replaces": original.rel_path, "corrected_records": len(details)},
            )
        )
        for r, col, old, new in details:
            entries.append(
                ManifestEntry(
                    "irs",
                    r2_path,
                    "redelivery",
                    str(corrected["incident_id"][r]),
                    r + 2,
                    f"{col}: {old} -> {new}",
                    {"column": col, "original": str(old), "value": str(new)},
                )
            )
    candidates = [f for f in irs if f is not redelivered and _non_ascii(f.parts[0])]
    if not candidates and redelivered is not None and _non_ascii(redelivered.parts[0]):
        candidates = [redelivered]
    if candidates:
        target = candidates[int(rng.integers(len(candidates)))]
        target.encoding = "cp1252"
        target.faultable = False
        entries.append(
            ManifestEntry(
                target.system,
                target.rel_path,
                "encoding_cp1252",
                None,
                None,
                "file encoded in Windows-1252 (e.g. 'café' is byte 0xE9), not UTF-8",
                {"encoding": "cp1252"},
            )
        )
    visits = [f for f in files if f.system == "prevention" and f.parts[0].rows > 0]
    if visits:
        target = visits[len(visits) // 2]
        target.drift = ("household_risk", "risk_level", "referral_source")
        target.faultable = False
        entries.append(
            ManifestEntry(
                target.system,
                target.rel_path,
                "schema_drift",
                None,
                None,
                "column household_risk renamed to risk_level; column referral_source dropped",
                {"renamed": {"household_risk": "risk_level"}, "dropped": ["referral_source"]},
            )
        )
    return entries


# ------------------------------------------------------------------------- writing
def _realise(
    f: FileSpec, part: Part, planned: dict[int, Planned], as_of: dt.date
) -> tuple[list[Line], list[ManifestEntry]]:
    """Text rows of one part with its planned faults applied, and their manifest entries."""
    rows = format_rows(part.entity, part.frame, f.fmt)
    offset = 1 if f.fmt == "jsonl" else 2  # JSONL has no header line
    applied = {}
    for i in sorted(planned):
        key = record_key(part.entity, rows[i])
        applied[i] = (key, apply_fault(planned[i], part.entity, f.fmt, rows[i], as_of))
    lines: list[Line] = []
    entries: list[ManifestEntry] = []
    for i, row in enumerate(rows):
        hit = applied.get(i)
        lines.append(hit[1].raw if hit and hit[1].raw is not None else row)
        if hit:
            key, a = hit
            detail = a.detail
            if a.duplicate:
                detail = f"exact copy of the record on row {len(lines) - 1 + offset}"
                lines.append(list(row))
            entries.append(
                ManifestEntry(
                    f.system,
                    f.rel_path,
                    planned[i].fault_class,
                    key,
                    len(lines) - 1 + offset,
                    detail,
                    a.extra,
                )
            )
    return lines, entries


def write_file(
    root: Path, f: FileSpec, plan: Plan | None, as_of: dt.date
) -> tuple[dict[str, int], list[ManifestEntry]]:
    """Write one file; returns rows written per entity and manifest entries."""
    counts: dict[str, int] = {}
    entries: list[ManifestEntry] = []
    target = root / f.rel_path
    if f.fmt == "json":
        assert f.doc is not None
        write_bytes(target, json_bytes(f.doc))
        acts = f.doc["activities"]
        return {
            "activities": len(acts),
            "activity_updates": sum(len(a["status_updates"]) for a in acts),
        }, []
    realised = []
    for part in f.parts:
        planned = plan.records.get((f.rel_path, part.entity.entity), {}) if plan else {}
        lines, found = _realise(f, part, planned, as_of)
        realised.append((part, lines))
        entries += found
        counts[part.entity.entity] = len(lines)
    if f.fmt == "csv":
        part, lines = realised[0]
        header = [c.name for c in part.entity.columns]
        if f.drift:
            renamed, new_name, dropped = f.drift
            drop = header.index(dropped)
            header = [new_name if h == renamed else h for h in header]
            del header[drop]
            lines = [[v for j, v in enumerate(row) if j != drop] for row in lines]  # type: ignore[misc]
        write_bytes(target, csv_bytes(header, lines, f.encoding))
    elif f.fmt == "jsonl":
        part, lines = realised[0]
        write_bytes(target, jsonl_bytes(part.entity, lines))  # type: ignore[arg-type]
    elif f.fmt == "xlsx":
        stamp = dt.datetime.combine(as_of, dt.time())
        sheets = [
            (
                p.entity.sheet or p.entity.entity,
                [c.name for c in p.entity.columns],
                [c.type for c in p.entity.columns],
                lines,
            )
            for p, lines in realised
        ]
        write_bytes(target, xlsx_bytes(sheets, stamp))  # type: ignore[arg-type]
    else:
        raise ValueError(f.fmt)
    return counts, entries


def _manifest_order(m: ManifestEntry) -> tuple:
    return (m.file, -1 if m.row is None else m.row, m.fault_class, m.record_key or "")


def _remove_stale(landing: Path, written: set[str]) -> None:
    """Delete files a previous run wrote that this run did not (e.g. an old correction file)."""
    previous = landing / SIM_DIR / "summary.json"
    if not previous.exists():
        return
    try:
        old = json.loads(previous.read_text(encoding="utf-8")).get("file_list", [])
    except (json.JSONDecodeError, AttributeError):
        return
    for rel in old:
        path = (landing / rel).resolve()
        if rel not in written and landing.resolve() in path.parents and path.is_file():
            path.unlink()


def generate(config: SimulatorConfig, landing_dir: Path) -> dict:
    """Write every extract for ``config`` under ``landing_dir``; return the run summary."""
    landing = Path(landing_dir)
    period = config.period()
    manifest: list[ManifestEntry] = []
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    files_by_system: dict[str, int] = defaultdict(int)
    written: list[str] = []
    services = config.selected_services()
    for k, spec in enumerate(services):
        files = service_files(spec, period, config.seed)
        plan = None
        if config.fault_rate > 0:
            rng = rng_for(config.seed, spec, "faults")
            first = k == 0  # file faults and the every-class guarantee live in the first service
            if first:
                manifest += inject_file_faults(files, rng)
            plan = plan_record_faults(files, config.fault_rate, rng, guarantee=first)
        for f in files:
            counts, entries = write_file(landing, f, plan, period.as_of)
            manifest += entries
            for name, n in counts.items():
                rows[f.system][name] += n
            files_by_system[f.system] += 1
            written.append(f.rel_path)
    _remove_stale(landing, set(written))
    manifest.sort(key=_manifest_order)
    faults = {name: 0 for name in FAULT_CLASS_NAMES}
    for m in manifest:
        if m.record_key is None or m.fault_class != "redelivery":
            faults[m.fault_class] += 1
    summary = {
        "config": {
            "seed": config.seed,
            "services": config.services,
            "years": config.years,
            "as_of": config.as_of.isoformat(),
            "fault_rate": config.fault_rate,
            "preset": config.preset,
        },
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "extract_date": period.extract_date.isoformat(),
            "months": len(period.months),
        },
        "services": [{"service_id": s.service_id, "name": s.display_name} for s in services],
        "rows": {s: dict(v) for s, v in rows.items()},
        "files": dict(files_by_system),
        "files_written": len(written),
        "faults": faults if config.fault_rate > 0 else {},
        "manifest_entries": len(manifest),
        "file_list": written,
    }
    sim = landing / SIM_DIR
    write_bytes(sim / "fault_manifest.json", json_bytes([asdict(m) for m in manifest]))
    write_bytes(sim / "summary.json", json_bytes(summary))
    return summary
