"""The source-system simulator: layout, contract conformance, determinism, realism and faults."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from orchestration.ingestion.contracts import (
    ENTITIES,
    FALSE_VALUES,
    FAULT_CLASS_NAMES,
    TRUE_VALUES,
    Entity,
    entity,
)
from orchestration.ingestion.readers import parse_file_name, read_entity_file
from orchestration.simulator import SimulatorConfig, generate
from orchestration.simulator.__main__ import main
from orchestration.simulator.config import Period

SMALL = SimulatorConfig(years=1)  # FY2026-27, April to October 2026
ONE_MONTH = dict(years=1, as_of=dt.date(2026, 5, 1))  # April 2026 only


def _run(tmp_path_factory: pytest.TempPathFactory, name: str, config: SimulatorConfig) -> Path:
    root = tmp_path_factory.mktemp(name)
    generate(config, root)
    return root


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory, "small", SMALL)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory, "faulty", SimulatorConfig(years=1, services=2, fault_rate=0.02))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory, "demo", SimulatorConfig())


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _concat(frames: object) -> pd.DataFrame:
    return pd.concat(list(frames), ignore_index=True)  # type: ignore[call-overload]


def _manifest(root: Path) -> list[dict]:
    return json.loads((root / "_simulator" / "fault_manifest.json").read_text(encoding="utf-8"))


def _landed(root: Path) -> list[tuple[Entity, Path, str]]:
    """(entity, path, period) for every landed file, one row per entity (sheets share a file)."""
    out = []
    for e in ENTITIES:
        for path in sorted((root / e.system).glob(f"*/{e.stem}_*.{e.extension}")):
            parsed = parse_file_name(e, path.name)
            if parsed:
                out.append((e, path, parsed[0]))
    return out


def _known(root: Path) -> dict[str, dict[str, set[str]]]:
    codes: dict[str, dict[str, set[str]]] = {}
    for folder in (root / "reference").iterdir():
        stations = next(folder.glob("stations_*.csv"))
        wards = next(folder.glob("wards_*.csv"))
        with stations.open(encoding="utf-8") as s, wards.open(encoding="utf-8") as w:
            codes[folder.name] = {
                "stations": {r["station_id"] for r in csv.DictReader(s)},
                "wards": {r["ward_code"] for r in csv.DictReader(w)},
            }
    return codes


# ------------------------------------------------------------------------- a small contract checker
_PATTERNS = {
    "int": re.compile(r"[+-]?\d+"),
    "float": re.compile(r"[+-]?\d+(\.\d+)?"),
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "timestamp": re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}"),
}


def _violations(
    e: Entity, path: Path, period: str, known: dict[str, set[str]], extract: dt.date
) -> dict[int, list[str]]:
    """Row number -> reasons the row breaks the contract (independent of the ingestion engine)."""
    result = read_entity_file(e, path)
    bad: dict[int, list[str]] = defaultdict(list)
    for m in result.malformed:
        bad[m.row].append("malformed")
    df = result.records
    if df.empty:
        return dict(bad)
    rows = df["_source_row"].tolist()
    parsed: dict[str, list] = {}
    for c in e.columns:
        values = df[c.name].tolist() if c.name in df else [None] * len(df)
        typed = []
        for r, v in zip(rows, values, strict=True):
            if v is None:
                if c.required or c.name in e.key:
                    bad[r].append(f"required {c.name}")
                typed.append(None)
                continue
            if c.type in _PATTERNS and not _PATTERNS[c.type].fullmatch(v):
                bad[r].append(f"not a valid {c.type} in {c.name}")
                typed.append(None)
                continue
            if c.type == "bool" and v.lower() not in TRUE_VALUES | FALSE_VALUES:
                bad[r].append(f"not a valid bool in {c.name}")
            if c.allowed and v.lower() not in {a.lower() for a in c.allowed}:
                bad[r].append(f"not allowed {c.name}")
            if c.type in ("int", "float"):
                x = float(v)
                if (c.minimum is not None and x < c.minimum) or (
                    c.maximum is not None and x > c.maximum
                ):
                    bad[r].append(f"out of range {c.name}")
                typed.append(x)
            elif c.type in ("date", "timestamp"):
                typed.append(dt.datetime.fromisoformat(v))
            else:
                typed.append(v)
        parsed[c.name] = typed
    keys = ["|".join(str(parsed[k][i]) for k in e.key) for i in range(len(rows))]
    seen: set[str] = set()
    for r, k in zip(rows, keys, strict=True):
        if k in seen:
            bad[r].append("duplicate key")
        seen.add(k)
    for i, r in enumerate(rows):
        stamps = [parsed[c][i] for c in e.sequence if parsed[c][i] is not None]
        if any(b < a for a, b in zip(stamps, stamps[1:], strict=False)):
            bad[r].append("out of sequence")
        if e.elapsed_bounds:
            a, b, lo, hi = e.elapsed_bounds
            if parsed[a][i] and parsed[b][i]:
                secs = (parsed[b][i] - parsed[a][i]).total_seconds()
                if not lo <= secs <= hi:
                    bad[r].append("elapsed out of bounds")
        for c in e.not_future:
            v = parsed[c][i]
            if v is not None and v.date() > extract:
                bad[r].append(f"future {c}")
        if e.delivery == "monthly" and e.period_column:
            v = parsed[e.period_column][i]
            if v is not None and f"{v:%Y-%m}" != period:
                bad[r].append("outside period")
        for rule in e.known_codes:
            v = parsed[rule.column][i]
            if v is not None and v not in known[rule.ref_entity]:
                bad[r].append(f"unknown code {rule.column}")
    return dict(bad)


def _all_violations(
    root: Path, extract: dt.date
) -> tuple[dict[tuple[str, str], dict[int, list[str]]], list[str]]:
    """Row violations per (file, entity), and the files whose header differs from the contract."""
    known = _known(root)
    out, drifted = {}, []
    for e, path, period in _landed(root):
        rel = path.relative_to(root).as_posix()
        if e.format != "json" and read_entity_file(e, path).columns != [c.name for c in e.columns]:
            drifted.append(rel)
            continue
        found = _violations(e, path, period, known[path.parent.name], extract)
        if found:
            out[(rel, e.entity)] = found
    return out, drifted


# ------------------------------------------------------------------------- configuration and layout
def test_period_is_whole_financial_years_to_the_last_complete_month() -> None:
    p = Period.ending_before(dt.date(2026, 11, 1), 5)
    assert (p.start, p.end, len(p.months)) == (dt.date(2022, 4, 1), dt.date(2026, 10, 31), 55)
    p = Period.ending_before(dt.date(2026, 4, 15), 2)
    assert (p.start, p.end, len(p.months)) == (dt.date(2024, 4, 1), dt.date(2026, 3, 31), 24)


def test_national_preset_is_44_varied_services() -> None:
    config = SimulatorConfig.national()
    services = config.selected_services()
    assert (len(services), config.years, config.preset) == (44, 10, "national")
    ids = [s.service_id for s in services]
    assert len(set(ids)) == 44 and all(re.fullmatch(r"[A-Z]{3}", i) for i in ids)
    assert "LFB" not in ids  # reserved for real London Fire Brigade extracts
    sizes = [s.incidents_per_year for s in services]
    assert min(sizes) < 6000 and max(sizes) >= 100_000
    assert 550_000 <= sum(sizes) <= 650_000
    assert SimulatorConfig().selected_services()[0].service_id == "ESX"


@pytest.mark.slow  # simulates and reads whole extracts: over 0.7 s of CPU
def test_national_preset_volumes_are_in_the_stated_range() -> None:
    """About 6 million incidents over ten years, with the matching mobilisations: drawn in memory
    for every service over one financial year (nothing written), then scaled to ten years. The
    full preset, written to disk, gave 5.76M incidents and 8.43M mobilisations over its 115 months
    (docs/performance.md)."""
    from orchestration.simulator.config import rng_for
    from orchestration.simulator.frames import length
    from orchestration.simulator.incidents import generate_incidents, generate_mobilisations
    from orchestration.simulator.org import build_org

    config = SimulatorConfig.national()
    period = Period.ending_before(dt.date(2026, 4, 1), 1)  # April 2025 to March 2026
    incidents, mobilisations, sizes = 0, 0, []
    for spec in config.selected_services():
        org = build_org(spec, period, rng_for(config.seed, spec, "reference"))
        drawn = generate_incidents(org, period, rng_for(config.seed, spec, "irs"))
        n = length(drawn.frame)
        incidents += n
        mobilisations += length(generate_mobilisations(org, drawn, rng_for(config.seed, spec, "mobilising")))
        sizes.append(n)
    assert 5_400_000 <= incidents * config.years <= 6_600_000, incidents
    assert 1.2 <= mobilisations / incidents <= 1.8, mobilisations / incidents
    assert max(sizes) > 15 * min(sizes)  # realistic and varied: the metropolitan services dwarf the smallest


@pytest.mark.slow  # simulates and reads whole extracts: over 0.7 s of CPU
def test_months_and_snapshots_present(small: Path) -> None:
    months = [f"2026-{m:02d}" for m in range(4, 11)]
    for e in ENTITIES:
        names = sorted(p.name for p in (small / e.system / "ESX").glob(f"{e.stem}_*"))
        if e.delivery == "monthly":
            assert names == [f"{e.stem}_{m}.{e.extension}" for m in months], e.table
        elif e.delivery == "snapshot":
            assert names == [f"{e.stem}_2026-10-31.{e.extension}"], e.table
        else:
            assert names == [f"{e.stem}_FY2026-27.json"]


@pytest.mark.slow  # reads a simulated year (the module fixture simulates it for the first user)
def test_headers_match_contract(small: Path) -> None:
    for e, path, _ in _landed(small):
        expected = [c.name for c in e.columns]
        if e.format == "csv":
            assert path.read_text(encoding="utf-8").split("\n", 1)[0] == ",".join(expected), (
                path.name
            )
        elif e.format == "jsonl":
            first = path.read_text(encoding="utf-8").split("\n", 1)[0]
            assert list(json.loads(first)) == expected
        elif e.format == "xlsx":
            assert read_entity_file(e, path).columns == expected, (path.name, e.sheet)
        else:
            doc = json.loads(path.read_text(encoding="utf-8"))
            activity = doc["activities"][0]
            assert doc["financial_year"] == "2026-27" and doc["service_id"] == "ESX"
            if e.entity == "activities":  # financial_year is inherited from the document
                fields = [k for k in activity if k != "status_updates"]
                assert fields == [c for c in expected if c != "financial_year"]
            else:  # updates also inherit activity_id from their parent
                fields = ["activity_id", "financial_year", *activity["status_updates"][0]]
                assert fields == expected


@pytest.mark.slow  # simulates and reads whole extracts: over 0.7 s of CPU
def test_services_give_service_folders_and_do_not_perturb_each_other(tmp_path: Path) -> None:
    three = SimulatorConfig(services=3, **ONE_MONTH)
    generate(three, tmp_path / "three")
    generate(SimulatorConfig(**ONE_MONTH), tmp_path / "one")
    folders = sorted(p.name for p in (tmp_path / "three" / "irs").iterdir())
    assert folders == sorted(s.service_id for s in three.selected_services())
    assert len(folders) == 3
    ward_codes = [
        r["ward_code"]
        for s in folders
        for r in csv.DictReader(
            (tmp_path / "three" / "reference" / s / "wards_2026-04-30.csv")
            .read_text(encoding="utf-8")
            .splitlines()
        )
    ]
    assert len(ward_codes) == len(set(ward_codes))
    one, both = _hashes(tmp_path / "one"), _hashes(tmp_path / "three")
    essex = {k: v for k, v in one.items() if "/ESX/" in k}
    assert essex and all(both[k] == v for k, v in essex.items())


@pytest.mark.slow  # simulates and reads whole extracts: over 0.7 s of CPU
def test_deterministic_bytes_and_seed_matters(tmp_path: Path) -> None:
    config = SimulatorConfig(services=2, fault_rate=0.01, **ONE_MONTH)
    generate(config, tmp_path / "a")
    generate(config, tmp_path / "b")
    generate(SimulatorConfig(seed=7, services=2, fault_rate=0.01, **ONE_MONTH), tmp_path / "c")
    a, b, c = (_hashes(tmp_path / x) for x in "abc")
    assert a == b
    assert any(p.endswith(".xlsx") for p in a)
    assert a.keys() - {"_simulator/summary.json"} and a != c
    assert a["irs/ESX/incidents_2026-04.csv"] != c["irs/ESX/incidents_2026-04.csv"]


# ------------------------------------------------------------------------- clean data
@pytest.mark.slow  # simulates and reads whole extracts: over 0.7 s of CPU
def test_clean_data_obeys_contract_and_has_empty_manifest(small: Path) -> None:
    assert _manifest(small) == []
    assert not list(small.rglob("*_r2.*"))
    assert _all_violations(small, dt.date(2026, 10, 31)) == ({}, [])


@pytest.mark.slow  # reads a simulated year (the module fixture simulates it for the first user)
def test_clean_mobilising_is_in_sequence_and_bounded(small: Path) -> None:
    frames = [
        pd.read_json(p, lines=True, dtype=False)
        for p in sorted((small / "mobilising" / "ESX").glob("*.jsonl"))
    ]
    mob = _concat(frames)
    stamps = [
        pd.to_datetime(mob[c])
        for c in ("call_received_at", "mobilised_at", "mobile_at", "in_attendance_at")
    ]
    for a, b in zip(stamps, stamps[1:], strict=False):
        assert (b >= a).all()
    total = (stamps[3] - stamps[0]).dt.total_seconds()
    assert total.between(60, 3600).all()
    inc = _concat(pd.read_csv(p, dtype=str) for p in sorted((small / "irs" / "ESX").glob("*.csv")))
    counts = mob.groupby("incident_id").size()
    assert (inc.set_index("incident_id")["appliances_attending"].astype(int) == counts).all()
    orders = mob.groupby("incident_id")["pump_order"].agg(["min", "max", "count"])
    assert (orders["min"] == 1).all() and (orders["max"] == orders["count"]).all()


@pytest.mark.slow  # reads a simulated year (the module fixture simulates it for the first user)
def test_station_history_and_reference(small: Path) -> None:
    stations = pd.read_csv(
        small / "reference" / "ESX" / "stations_2026-10-31.csv", dtype=str, keep_default_na=False
    )
    moved = stations[stations.duplicated("station_id", keep=False)].sort_values("valid_from")
    assert len(moved) == 2 and moved.group_id.nunique() == 2
    assert moved.iloc[0].valid_to != "" and moved.iloc[1].valid_to == ""
    assert stations.groupby("station_id").valid_from.min().le("2026-04-01").all()
    appliances = pd.read_csv(small / "reference" / "ESX" / "appliances_2026-10-31.csv")
    per_station = appliances.groupby("station_id").size()
    assert per_station.between(1, 3).all() and len(per_station) == stations.station_id.nunique()


# ------------------------------------------------------------------------- realism at demo scale
@pytest.mark.slow  # five years simulated: make test runs it, make test-fast does not
def test_demo_volumes_and_shape(demo: Path) -> None:
    inc = _concat(
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in sorted((demo / "irs" / "ESX").glob("*.csv"))
    )
    inc["call_at"] = pd.to_datetime(inc.call_at)
    fy = inc.call_at.dt.year.where(inc.call_at.dt.month >= 4, inc.call_at.dt.year - 1)
    full = inc[fy < 2026]
    per_year = full.groupby(fy[fy < 2026]).size()
    assert len(per_year) == 4 and per_year.between(13_500, 16_500).all()
    share = full.incident_category.value_counts(normalize=True)
    assert 0.40 <= share["false_alarm"] <= 0.50
    assert 0.20 <= share["special_service"] <= 0.30
    assert 0.12 <= share["primary_fire"] <= 0.18 and 0.11 <= share["secondary_fire"] <= 0.18
    assert 0.005 <= share["chimney_fire"] <= 0.02
    assert 800 <= (full.incident_type == "rtc").sum() / 4 <= 1200
    adf = full[
        (full.incident_category == "primary_fire")
        & (full.property_category == "dwelling")
        & (full.motive != "deliberate")
    ]
    assert 550 <= len(adf) / 4 <= 750
    assert 0.83 <= (adf.is_confined_to_room == "Y").mean() <= 0.92
    fire_deaths = full[full.incident_type == "fire"].fatalities.astype(int).sum() / 4
    assert 4 <= fire_deaths <= 11
    assert 0.005 <= (full.is_late_call == "Y").mean() <= 0.015
    assert {"Abandoned vehicle", "Derelict building"} <= set(full.property_type)
    fires = inc.incident_category.str.endswith("fire")
    assert (inc.incident_type[fires] == "fire").all()
    assert set(inc.incident_type[inc.incident_category == "false_alarm"]) == {
        "malicious",
        "good_intent",
        "apparatus",
    }
    # Fires trend gently down; secondary fires peak in spring and summer and on 5 November.
    primary = full[full.incident_category == "primary_fire"].groupby(fy[fy < 2026]).size()
    assert primary.iloc[-1] < primary.iloc[0]
    sec = inc[inc.incident_category == "secondary_fire"]
    by_month = sec.call_at.dt.month.value_counts()
    assert by_month[[6, 7, 8]].mean() > 1.8 * by_month[[12, 1, 2]].mean()
    per_day = (
        sec.groupby(sec.call_at.dt.date)
        .size()
        .reindex(pd.date_range("2022-04-01", "2026-10-31").date, fill_value=0)
    )
    bonfire = per_day[[d for d in per_day.index if (d.month, d.day) == (11, 5)]]
    assert bonfire.mean() > 3 * per_day.mean()
    afa = inc[(inc.incident_type == "apparatus") & (inc.property_category == "non_domestic")]
    assert ((afa.call_at.dt.day_of_week < 5) & afa.call_at.dt.hour.between(9, 17)).mean() > 0.5

    mob = _concat(
        pd.read_json(p, lines=True, dtype=False)
        for p in sorted((demo / "mobilising" / "ESX").glob("*.jsonl"))
    )
    apps = pd.read_csv(demo / "reference" / "ESX" / "appliances_2026-10-31.csv")
    mob = mob.merge(apps[["appliance_id", "duty_system"]], on="appliance_id")
    at = {
        c: pd.to_datetime(mob[c])
        for c in ("call_received_at", "mobilised_at", "mobile_at", "in_attendance_at")
    }
    handling = (at["mobilised_at"] - at["call_received_at"]).dt.total_seconds()
    turnout = (
        (at["mobile_at"] - at["mobilised_at"]).dt.total_seconds().groupby(mob.duty_system).median()
    )
    first = mob.pump_order == 1
    drive = (at["in_attendance_at"] - at["mobile_at"]).dt.total_seconds()[first]
    assert 60 <= handling[first].median() <= 90
    assert 70 <= turnout["wholetime"] <= 110 and 250 <= turnout["on_call"] <= 350
    assert 300 <= drive.median() <= 450
    ground = mob[first].merge(inc[["incident_id", "station_ground"]], on="incident_id")
    assert (ground.station_id == ground.station_ground).mean() > 0.8

    stations = pd.read_csv(
        demo / "reference" / "ESX" / "stations_2026-10-31.csv", keep_default_na=False
    )
    current = stations[stations.valid_to == ""]
    assert 45 <= len(current) <= 55 and current.group_id.nunique() == 4
    assert 12 <= (current.duty_system == "wholetime").sum() <= 16
    wards = pd.read_csv(demo / "reference" / "ESX" / "wards_2026-10-31.csv")
    assert 270 <= len(wards) <= 330 and wards.ward_code.is_unique
    assert 1_800_000 <= wards.population.sum() <= 1_900_000
    assert (
        750_000 <= wards.dwellings.sum() <= 850_000
        and 50_000 <= wards.non_domestic_properties.sum() <= 60_000
    )

    def yearly(system: str, stem: str) -> pd.DataFrame:
        return _concat(
            pd.read_csv(p, keep_default_na=False)
            for p in sorted((demo / system / "ESX").glob(f"{stem}_*.csv"))
        )

    years = 55 / 12
    hfsv = yearly("prevention", "hfsv")
    assert (
        8_000 <= len(hfsv) / years <= 10_000
        and 0.55 <= (hfsv.household_risk == "high").mean() <= 0.65
    )
    audits = yearly("protection", "audits")
    assert 1_600 <= len(audits) / years <= 2_000
    assert 0.2 <= (audits.outcome == "unsatisfactory").mean() <= 0.3
    refs = yearly("safeguarding", "referrals").direction.value_counts() / years
    assert 350 <= refs["made"] <= 450 and 120 <= refs["received"] <= 180
    avail = yearly("availability", "oncall_availability")
    by_station = avail.groupby("station_id").hours_available.mean() / 24
    assert by_station.between(0.6, 0.97).all() and by_station.max() - by_station.min() > 0.15

    hr = demo / "hr" / "ESX" / "hr_extract_2026-10-31.xlsx"
    staff = pd.read_excel(hr, "Staff")
    assert staff.first_name.notna().all() and staff.staff_number.str.fullmatch(r"ESX\d{6}").all()
    current_staff = staff[staff.leave_date.isna()]
    groups = current_staff.staff_group.value_counts()
    assert 1_350 <= len(current_staff) <= 1_650
    assert 540 <= groups["wholetime"] <= 660 and 480 <= groups["on_call"] <= 620
    assert 45 <= groups["control"] <= 75 and 250 <= groups["support"] <= 350
    assert staff.leave_date.notna().sum() > 200

    def women_ff(day: str) -> float:
        d = pd.Timestamp(day)
        ff = staff[
            staff.staff_group.isin(["wholetime", "on_call"])
            & (staff.start_date <= d)
            & (staff.leave_date.isna() | (staff.leave_date > d))
        ]
        return (ff.gender == "female").mean()

    assert 0.06 <= women_ff("2022-04-01") < women_ff("2026-10-31") <= 0.12
    uniformed = current_staff[current_staff.staff_group.isin(["wholetime", "on_call"])]
    assert 0.03 <= (~uniformed.ethnicity.isin(["white", "not_stated"])).mean() <= 0.09
    absence = pd.read_excel(hr, "Absence")
    months = absence.start_date.dt.month.value_counts()
    assert months[[12, 1, 2]].mean() > 1.2 * months[[6, 7, 8]].mean()
    per_fte = absence.shifts_lost.sum() / years / current_staff.fte.sum()
    assert 6.5 <= per_fte <= 9.5
    cases = pd.read_excel(hr, "Cases")
    assert 80 <= len(cases) / years <= 120
    closed = (cases.closed_date - cases.opened_date).dt.days.dropna()
    assert closed.between(20, 120).mean() > 0.7

    comp = pd.read_csv(
        demo / "competence" / "ESX" / "competence_2026-10-31.csv",
        parse_dates=["achieved_date", "expiry_date"],
    )
    ops = staff[(staff.is_operational == "Y") & staff.leave_date.isna()]
    live = comp[comp.staff_number.isin(ops.staff_number) & (comp.expiry_date >= "2026-10-31")]
    in_date = (
        live.groupby("staff_number").skill_code.nunique().reindex(ops.staff_number, fill_value=0)
        == 6
    )
    assert 0.75 <= in_date.mean() < 1.0
    assert comp.groupby(["staff_number", "skill_code"]).size().max() > 1  # renewal history

    plans = {
        p.name: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((demo / "planner" / "ESX").glob("*.json"))
    }
    assert len(plans) == 5
    for name, doc in plans.items():
        acts = doc["activities"]
        assert 25 <= len(acts) <= 40, name
        assert {a["priority_id"] for a in acts} <= set(range(1, 9))
        assert any("HMICFRS AI" in a["labels"] for a in acts)
        for a in acts:
            fy = int(doc["financial_year"][:4])
            assert a["is_rolled_over"] == (int(a["activity_id"][2:6]) < fy)
    assert sum(a["is_rolled_over"] for d in plans.values() for a in d["activities"]) > 0
    current_plan = plans["annual_plan_FY2026-27.json"]["activities"]
    assert {u["quarter"] for a in current_plan for u in a["status_updates"]} == {"Q1", "Q2"}


# ------------------------------------------------------------------------- faults
_EXPECTED_REASON = {
    "duplicate": "duplicate key",
    "missing_mandatory": "required",
    "out_of_sequence": "out of sequence",
    "bad_response_time": "elapsed out of bounds",
    "future_date": "future",
    "unknown_code": "unknown code",
    "text_in_numeric": "not a valid",
    "malformed_row": "malformed",
}


@pytest.mark.slow  # simulates and reads whole extracts: over 0.7 s of CPU
def test_every_fault_class_is_injected_and_each_record_fault_is_real(faulty: Path) -> None:
    manifest = _manifest(faulty)
    assert {m["fault_class"] for m in manifest} == set(FAULT_CLASS_NAMES)
    assert manifest == sorted(
        manifest,
        key=lambda m: (
            m["file"],
            -1 if m["row"] is None else m["row"],
            m["fault_class"],
            m["record_key"] or "",
        ),
    )
    violations, drifted = _all_violations(faulty, dt.date(2026, 10, 31))
    assert drifted == [m["file"] for m in manifest if m["fault_class"] == "schema_drift"]
    expected: set[tuple[str, str, int]] = set()
    for m in manifest:
        if m["row"] is None or m["fault_class"] == "redelivery":
            continue
        key = (m["file"], m["extra"]["entity"])
        reasons = violations.get(key, {}).get(m["row"], [])
        assert any(_EXPECTED_REASON[m["fault_class"]] in r for r in reasons), (m, reasons)
        expected.add((*key, m["row"]))
    # Nothing else is wrong: the manifest is the complete truth.
    flagged = {(f, e, r) for (f, e), rows in violations.items() for r in rows}
    assert flagged - expected == set()
    # At most one fault per record.
    rows = [
        (m["file"], m["extra"].get("entity"), m["row"]) for m in manifest if m["row"] is not None
    ]
    assert len(rows) == len(set(rows))


@pytest.mark.slow  # reads a simulated year (the module fixture simulates it for the first user)
def test_file_level_faults(faulty: Path) -> None:
    manifest = _manifest(faulty)
    by_class = defaultdict(list)
    for m in manifest:
        by_class[m["fault_class"]].append(m)
    [cp] = by_class["encoding_cp1252"]
    data = (faulty / cp["file"]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert not data.decode("cp1252").isascii()
    [drift] = by_class["schema_drift"]
    e = next(
        e
        for e in ENTITIES
        if e.system == drift["system"] and Path(drift["file"]).name.startswith(e.stem + "_")
    )
    header = (faulty / drift["file"]).read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    expected = [c.name for c in e.columns]
    assert len(header) == len(expected) - 1 and len(set(expected) - set(header)) == 2
    assert len(set(header) - set(expected)) == 1
    file_entry = [m for m in by_class["redelivery"] if m["row"] is None]
    records = [m for m in by_class["redelivery"] if m["row"] is not None]
    assert len(file_entry) == 1 and records
    r2 = faulty / file_entry[0]["file"]
    original = faulty / file_entry[0]["extra"]["replaces"]
    assert r2.name == original.name.replace(".csv", "_r2.csv")
    new = pd.read_csv(r2, dtype=str, keep_default_na=False)
    corrected = {m["record_key"]: m for m in records}
    lines = r2.read_text(encoding="utf-8").split("\n")
    for key, m in corrected.items():
        assert lines[m["row"] - 1].startswith(key + ",")
    changed = set(new.incident_id) & set(corrected)
    assert changed == set(corrected) and len(new) >= len(corrected)
    # Record faults never land in the file-level fault files.
    special = {cp["file"], drift["file"], file_entry[0]["file"]}
    assert not [
        m
        for m in manifest
        if m["file"] in special and m["row"] is not None and m["fault_class"] != "redelivery"
    ]


@pytest.mark.slow  # simulates and reads whole extracts: over 0.7 s of CPU
def test_every_class_even_for_a_tiny_run(tmp_path: Path) -> None:
    generate(SimulatorConfig(fault_rate=1e-6, **ONE_MONTH), tmp_path)
    assert {m["fault_class"] for m in _manifest(tmp_path)} == set(FAULT_CLASS_NAMES)


@pytest.mark.slow  # simulates and reads whole extracts: over 0.7 s of CPU
def test_cli_uses_env_fault_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GT_FAULT_RATE", "0.005")
    assert (
        main(
            ["--landing-dir", str(tmp_path), "--years", "1", "--as-of", "2026-05-01", "--seed", "3"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.count("\n") >= 10 and "irs" in out and "mobilising" in out
    summary = json.loads((tmp_path / "_simulator" / "summary.json").read_text(encoding="utf-8"))
    assert summary["config"]["seed"] == 3 and summary["config"]["fault_rate"] == 0.005
    assert _manifest(tmp_path)
    assert summary["rows"]["irs"]["incidents"] > 500


@pytest.mark.slow  # simulates and reads whole extracts: over 0.7 s of CPU
def test_rerun_removes_files_of_the_previous_run(tmp_path: Path) -> None:
    generate(SimulatorConfig(fault_rate=0.01, **ONE_MONTH), tmp_path)
    assert list(tmp_path.rglob("*_r2.csv"))
    generate(SimulatorConfig(**ONE_MONTH), tmp_path)
    assert not list(tmp_path.rglob("*_r2.csv")) and _manifest(tmp_path) == []


def test_entities_cover_every_contract() -> None:
    # Guard: a new contract entity must be simulated too.
    assert {e.table for e in ENTITIES} == {
        "reference__stations",
        "reference__wards",
        "reference__appliances",
        "reference__ward_successors",
        "irs__incidents",
        "mobilising__mobilisations",
        "hr__staff",
        "hr__absences",
        "hr__cases",
        "competence__records",
        "prevention__home_fire_safety_visits",
        "protection__fire_safety_audits",
        "availability__oncall_availability",
        "safeguarding__referrals",
        "planner__activities",
        "planner__activity_updates",
        "planner__deep_dive_actions",
    }
    assert entity("irs__incidents").key == ("incident_id",)
