"""Partner sharing: agreement gate, dataset registry, disclosure control, extracts and their audit log.

A small serving database is built in a temporary folder, so nothing here needs a pipeline run.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.sharing import cli
from orchestration.sharing.agreements import (
    AGREEMENTS_PATH,
    COLUMNS,
    SharingRefused,
    active_agreement,
    load_agreements,
)
from orchestration.sharing.datasets import DATASETS, Dataset, check_columns, check_dataset
from orchestration.sharing.disclosure import (
    SUPPRESSED,
    TOTAL,
    Ratio,
    TableSpec,
    protect_frame,
    protect_table,
    publish_count,
    ratio,
    round_to_base,
    secondary_suppression,
    with_totals,
)
from orchestration.sharing.extract import make_extract, share_for_all_active_partners

TODAY = dt.date(2026, 11, 22)
MONTHS = pd.date_range("2025-10-01", "2026-10-01", freq="MS").date  # one month before the window too
SERVICE = "ESX"
RETIRED_WARD = f"{SERVICE}-E05000007"


# --- fixtures --------------------------------------------------------------------------------


def _build_serving(path: Path) -> None:
    """A miniature ``marts`` schema with the columns the datasets read, plus row-level columns that must not leak."""
    rng = np.random.default_rng(7)
    wards = pd.DataFrame({
        "ward_sk": [f"{SERVICE}-E0500000{i}" for i in range(1, 7)],
        "ward_code": [f"E0500000{i}" for i in range(1, 7)],
        "service_id": SERVICE,
        "station_sk": [f"{SERVICE}-S{i}" for i in (1, 1, 2, 2, 3, 3)],
        "lad_code": ["E07000001"] * 3 + ["E07000002"] * 3,
        "ward_name": ["Abbey", "Brook", "Castle", "Dene", "Elm", "Ford"],
        "lad_name": ["North District"] * 3 + ["South District"] * 3,
        "population": 5000,
    })
    wards["current_ward_sk"] = wards["ward_sk"]
    wards["is_current_ward"] = True
    # A ward a boundary review replaced: its records are shared under its successor, Abbey.
    retired = {"ward_sk": RETIRED_WARD, "ward_code": RETIRED_WARD.split("-")[1], "service_id": SERVICE,
               "station_sk": f"{SERVICE}-S1", "lad_code": "E07000001", "ward_name": "Abbey (before 2024)",
               "lad_name": "North District", "population": 5000, "current_ward_sk": f"{SERVICE}-E05000001",
               "is_current_ward": False}
    wards = pd.concat([wards, pd.DataFrame([retired])], ignore_index=True)
    # Ward activity ranges from busy to nearly empty, so tables mix large counts, 1–7s and zeros.
    intensity = dict(zip(wards.ward_sk, [14, 6, 2, 0.4, 9, 3, 2], strict=True))
    incidents, visits = [], []
    for ward in wards.itertuples():
        for month in MONTHS:
            for category in ("primary_fire", "secondary_fire", "false_alarm", "special_service"):
                for _ in range(rng.poisson(intensity[ward.ward_sk])):
                    n = len(incidents)
                    deliberate = category in ("primary_fire", "secondary_fire") and rng.random() < 0.4
                    vehicle = category == "primary_fire" and rng.random() < 0.3
                    rtc = category == "special_service" and rng.random() < 0.5
                    incidents.append({
                        "incident_sk": f"SK-{n}", "incident_id": f"INC-{n:05d}", "service_id": SERVICE,
                        "station_sk": ward.station_sk, "ward_sk": ward.ward_sk, "period_month": month,
                        "call_at": pd.Timestamp(month) + pd.Timedelta(hours=n % 600),
                        "incident_category": category, "motive": "deliberate" if deliberate else "accidental",
                        "is_deliberate_primary_excl_vehicle": deliberate and category == "primary_fire" and not vehicle,
                        "is_deliberate_vehicle_fire": deliberate and category == "primary_fire" and vehicle,
                        "is_rtc": rtc, "count_injuries_excl_precautionary": int(rng.poisson(0.8)) if rtc else 0,
                        "count_fatalities": int(rng.random() < 0.05) if rtc else 0,
                        "count_rescues": int(rng.poisson(0.3)) if rtc else 0,
                        "_source_file": "irs/incidents_secret_source.csv",
                    })
            for _ in range(rng.poisson(intensity[ward.ward_sk] * 1.5)):
                n = len(visits)
                visits.append({
                    "visit_sk": f"VISIT-{n:05d}", "service_id": SERVICE, "station_sk": ward.station_sk,
                    "ward_sk": ward.ward_sk, "period_month": month, "is_high_risk": bool(rng.random() < 0.5),
                    "household_risk": "high", "_source_file": "prevention/hfsv_secret_source.csv",
                })
    stations = [(f"{SERVICE}-S{i}", name) for i, name in enumerate(["Northtown", "Southport", "Westham"], start=1)]
    org = [{"org_unit_id": SERVICE, "parent_org_unit_id": None, "org_level": "service", "org_unit_name": "Test FRS"}]
    for station, name in stations:
        org.append(
            {"org_unit_id": station, "parent_org_unit_id": SERVICE, "org_level": "station", "org_unit_name": name}
        )
        for watch in ("RED", "BLUE"):
            org.append({"org_unit_id": f"{station}-{watch}", "parent_org_unit_id": station, "org_level": "watch",
                        "org_unit_name": f"{name} {watch.title()} Watch"})
    # The geography hierarchy: districts and their current wards, and the UNALLOCATED ward.
    current_wards = wards[wards.is_current_ward]
    for lad_code, lad_name in sorted(set(zip(current_wards.lad_code, current_wards.lad_name, strict=True))):
        org.append({"org_unit_id": f"{SERVICE}-LAD-{lad_code}", "parent_org_unit_id": SERVICE,
                    "org_level": "district", "org_unit_name": lad_name})
    org.append({"org_unit_id": f"{SERVICE}-LAD-UNALLOCATED", "parent_org_unit_id": SERVICE,
                "org_level": "district", "org_unit_name": "Not allocated to a ward"})
    ward_units = [(f"{SERVICE}-WARD-{w.ward_code}", f"{SERVICE}-LAD-{w.lad_code}", w.ward_name)
                  for w in current_wards.itertuples()]
    ward_units.append((f"{SERVICE}-WARD-UNALLOCATED", f"{SERVICE}-LAD-UNALLOCATED", "Not allocated to a ward"))
    for unit, district, name in ward_units:
        org.append({"org_unit_id": unit, "parent_org_unit_id": district, "org_level": "ward", "org_unit_name": name})
    org_units = pd.DataFrame(org).assign(service_id=SERVICE, valid_from=dt.date(2020, 1, 1), valid_to=pd.NaT)
    org_units["valid_to"] = pd.to_datetime(org_units["valid_to"]).dt.date
    workforce = []
    for month in MONTHS[-2:]:
        for unit in [f"{s}-{w}" for s, _ in stations for w in ("RED", "BLUE")] + [SERVICE]:
            for gender in ("female", "male", "other"):
                for ethnicity in ("white", "asian", "black", "not_stated"):
                    big = gender == "male" and ethnicity == "white"
                    count = int(rng.integers(6, 30)) if big else int(rng.choice([0, 0, 1, 2, 3, 9]))
                    if count:
                        workforce.append({
                            "workforce_sk": f"{unit}|{month}|{gender}|{ethnicity}", "org_unit_id": unit,
                            "service_id": SERVICE, "period_month": month, "staff_group": "wholetime",
                            "gender": gender, "ethnicity": ethnicity, "count_staff": count,
                        })
    kpi = pd.DataFrame({
        "kpi_code": ["INC_TOTAL", "RESP_STD_MET_PCT", "WOMEN_FF_PCT"],
        "kpi_name": ["Incidents attended", "First appliance within the standard", "Women firefighters"],
        "unit": ["count", "percent", "percent"],
    })
    kpi_rows = []
    for station, name in stations:
        for month in MONTHS:
            den = int(rng.poisson(12))
            for code, num, denominator in (
                ("INC_TOTAL", int(rng.poisson(30)), None),
                ("RESP_STD_MET_PCT", int(rng.binomial(den, 0.8)), den),
                ("WOMEN_FF_PCT", 2, 20),
            ):
                kpi_rows.append({
                    "kpi_code": code, "org_unit_id": station, "org_level": "station", "service_id": SERVICE,
                    "org_unit_name": name, "period_month": month, "numerator": float(num),
                    "denominator": None if denominator is None else float(denominator),
                })
    # Ward rows of the KPI report (geography hierarchy): small counts, the cells disclosure control is for.
    for unit, _, name in ward_units:
        for month in MONTHS:
            den = int(rng.poisson(3))
            for code, num, denominator in (
                ("INC_TOTAL", int(rng.poisson(6)), None),
                ("RESP_STD_MET_PCT", int(rng.binomial(den, 0.8)), den),
            ):
                kpi_rows.append({
                    "kpi_code": code, "org_unit_id": unit, "org_level": "ward", "service_id": SERVICE,
                    "org_unit_name": name, "period_month": month, "numerator": float(num),
                    "denominator": None if denominator is None else float(denominator),
                })
    frames = {
        "dim_geography": wards, "fct_incidents": pd.DataFrame(incidents),
        "fct_home_fire_safety_visits": pd.DataFrame(visits), "dim_org_unit": org_units,
        "fct_workforce_monthly": pd.DataFrame(workforce), "dim_kpi": kpi, "rpt_kpi_monthly": pd.DataFrame(kpi_rows),
    }
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        for name, frame in frames.items():
            con.register("frame", frame)
            con.execute(f"create table marts.{name} as select * from frame")
            con.unregister("frame")
        con.execute("create schema meta")
        con.execute("create table meta.publish_info as select 'r1' as run_id, date '2026-11-01' as as_of")


AGREEMENT_ROWS = [
    ("ISA-1", "County Council", "incidents_by_ward_month;hfsv_by_ward_month", "2025-04-01", "2027-03-31", "partner"),
    ("ISA-2", "Housing Association", "hfsv_by_ward_month", "2023-10-01", "2025-09-30", "partner"),
    ("ISA-3", "Future Partner", "rtc_casualties_by_lad_month", "2027-01-01", "2027-12-31", "partner"),
    ("ISA-4", "Police", "deliberate_fires_by_ward_month", "2025-06-01", "2027-05-31", "partner"),
    ("ISA-5", "Police", "kpi_monthly_by_station", "2024-01-01", "2026-06-30", "partner"),
    ("ISA-6", "Analyst Partner", ";".join(DATASETS), "2026-01-01", "2026-12-31", "partner"),
    ("PUB-1", "Open data", "workforce_diversity_by_station;incidents_by_ward_month", "2026-04-01", "2027-03-31",
     "public"),
]


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serving") / "serving.duckdb"
    _build_serving(path)
    return path


@pytest.fixture(scope="module")
def agreements(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("agreements") / "agreements.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for agreement_id, partner, datasets, start, expiry, audience in AGREEMENT_ROWS:
            writer.writerow([agreement_id, partner, SERVICE, datasets, "Testing", "UK GDPR Art. 6(1)(e) public task",
                             start, expiry, audience])
    return load_agreements(path)


@pytest.fixture
def log_con():
    con = duckdb.connect()
    yield con
    con.close()


@pytest.fixture(scope="module")
def analyst_extract(serving: Path, agreements, tmp_path_factory: pytest.TempPathFactory):
    """Every dataset, extracted once for the partner whose agreement names them all."""
    out = tmp_path_factory.mktemp("shared")
    with duckdb.connect() as con:
        files = make_extract(serving, "Analyst Partner", out, TODAY, con, agreements=agreements)
        log = con.execute("select * from audit.sharing_log order by log_id").df()
    return files, log


def _log(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("select * from audit.sharing_log order by log_id").df()


# --- attacks on published tables ------------------------------------------------------------


def _tables(frame: pd.DataFrame, spec: TableSpec) -> list[np.ndarray]:
    """Each (slice, count column) of a published extract as a grid of ints and None (for ``*``), totals last."""
    grids = []
    groups = frame.groupby(list(spec.slice_dims)) if spec.slice_dims else [((), frame)]
    for _, part in groups:
        rows = sorted(set(part[spec.row_dim]) - {TOTAL}) + [TOTAL]
        cols = sorted(set(part[spec.col_dim]) - {TOTAL}) + [TOTAL]
        for count in spec.count_columns:
            if (part[count] == "").all():
                continue
            pivot = part.pivot(index=spec.row_dim, columns=spec.col_dim, values=count).reindex(index=rows, columns=cols)
            grids.append(np.vectorize(lambda v: None if v == SUPPRESSED else int(v), otypes=[object])(pivot.to_numpy()))
    return grids


def _subtraction_attack(grid: np.ndarray) -> set[tuple[int, int]]:
    """Solve any line with a single ``*`` (total minus the others, or the sum for a total), repeating until stuck."""
    values = grid.copy()
    hidden = {(int(i), int(j)) for i, j in zip(*np.nonzero(np.equal(values, None)), strict=True)}
    recovered: set[tuple[int, int]] = set()
    last_row, last_col = values.shape[0] - 1, values.shape[1] - 1
    progress = True
    while progress:
        progress = False
        lines = [[(i, j) for j in range(last_col + 1)] for i in range(last_row + 1)]
        lines += [[(i, j) for i in range(last_row + 1)] for j in range(last_col + 1)]
        for line in lines:
            unknown = [cell for cell in line if values[cell] is None]
            if len(unknown) != 1:
                continue
            cell = unknown[0]
            total_cell = line[-1]
            interior = [c for c in line[:-1] if c != cell]
            if cell == total_cell:
                values[cell] = sum(values[c] for c in interior)
            else:
                values[cell] = values[total_cell] - sum(values[c] for c in interior)
            recovered.add(cell)
            progress = True
    return recovered & hidden


def _linear_attack(grid: np.ndarray) -> set[tuple[int, int]]:
    """Cells pinned down by any combination of the row and column equations (unit vector in the row space)."""
    hidden = [(int(i), int(j)) for i, j in zip(*np.nonzero(np.equal(grid, None)), strict=True)]
    if not hidden:
        return set()
    last_row, last_col = grid.shape[0] - 1, grid.shape[1] - 1
    index = {cell: k for k, cell in enumerate(hidden)}
    equations = []
    for i in range(last_row + 1):
        row = np.zeros(len(hidden))
        for j in range(last_col + 1):
            if (i, j) in index:
                row[index[(i, j)]] = -1.0 if j == last_col else 1.0
        equations.append(row)
    for j in range(last_col + 1):
        row = np.zeros(len(hidden))
        for i in range(last_row + 1):
            if (i, j) in index:
                row[index[(i, j)]] = -1.0 if i == last_row else 1.0
        equations.append(row)
    _, s, vt = np.linalg.svd(np.array(equations), full_matrices=False)
    basis = vt[s > 1e-9]
    determined = (basis**2).sum(axis=0) > 1 - 1e-9
    return {cell for cell, hit in zip(hidden, determined, strict=True) if hit}


# --- agreements ----------------------------------------------------------------------------


def test_seed_register_is_valid_and_names_only_registered_datasets():
    register = load_agreements(AGREEMENTS_PATH)
    assert {d for a in register for d in a.datasets} <= set(DATASETS)
    assert any(a.status_on(TODAY) == "expired" for a in register)
    assert {a.audience for a in register} == {"partner", "public"}
    for a in register:
        assert "Art. 6(1)" in a.lawful_basis
        if a.audience == "public":
            assert all(DATASETS[d].public_release for d in a.datasets)
        if "workforce_diversity_by_station" in a.datasets:
            assert "Art. 9(2)" in a.lawful_basis  # special category data needs an Article 9 condition too


def test_active_agreement_gives_clear_reasons(agreements):
    assert active_agreement(agreements, "county council", "hfsv_by_ward_month", TODAY).agreement_id == "ISA-1"
    assert active_agreement(agreements, "county-council", "incidents_by_ward_month", TODAY).agreement_id == "ISA-1"
    with pytest.raises(SharingRefused, match="no information sharing agreement with partner 'Nobody'"):
        active_agreement(agreements, "Nobody", "hfsv_by_ward_month", TODAY)
    with pytest.raises(SharingRefused, match=r"ISA-2 .* expired on 2025-09-30"):
        active_agreement(agreements, "Housing Association", "hfsv_by_ward_month", TODAY)
    with pytest.raises(SharingRefused, match=r"has not started: it starts on 2027-01-01"):
        active_agreement(agreements, "Future Partner", "rtc_casualties_by_lad_month", TODAY)
    with pytest.raises(SharingRefused, match="'deliberate_fires_by_ward_month' is not named"):
        active_agreement(agreements, "County Council", "deliberate_fires_by_ward_month", TODAY)
    # inclusive dates: the last day of an agreement still counts
    assert active_agreement(agreements, "Housing Association", "hfsv_by_ward_month", dt.date(2025, 9, 30))


def test_bad_register_is_rejected(tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text(",".join(COLUMNS) + "\nA,P,ESX,x,purpose,basis,2026-05-01,2026-04-01,partner\n")
    with pytest.raises(ValueError, match="expiry_date is before start_date"):
        load_agreements(path)
    path.write_text(",".join(COLUMNS) + "\nA,P,ESX,x,purpose,basis,2026-01-01,2026-04-01,everyone\n")
    with pytest.raises(ValueError, match="audience"):
        load_agreements(path)


# --- extracts: refusals, scope and logging -----------------------------------------------------


def test_expired_agreement_is_refused_and_logged(serving, agreements, log_con, tmp_path):
    with pytest.raises(SharingRefused, match="expired on 2025-09-30"):
        make_extract(serving, "Housing Association", tmp_path, TODAY, log_con, agreements=agreements)
    log = _log(log_con)
    assert log[["agreement_id", "dataset", "status"]].values.tolist() == [["ISA-2", "hfsv_by_ward_month", "refused"]]
    assert "expired on 2025-09-30" in log.reason[0]
    assert not any(tmp_path.rglob("*.csv"))


def test_missing_and_not_started_agreements_are_refused_and_logged(serving, agreements, log_con, tmp_path):
    with pytest.raises(SharingRefused, match="no information sharing agreement with partner 'Fire Fan Club'"):
        make_extract(serving, "Fire Fan Club", tmp_path, TODAY, log_con, agreements=agreements)
    with pytest.raises(SharingRefused, match="starts on 2027-01-01"):
        make_extract(serving, "Future Partner", tmp_path, TODAY, log_con, agreements=agreements)
    log = _log(log_con)
    assert log.status.tolist() == ["refused", "refused"]
    assert log.partner.tolist() == ["Fire Fan Club", "Future Partner"]
    assert log.log_id.tolist() == [1, 2]
    assert not any(tmp_path.rglob("*.csv"))


def test_partner_gets_only_the_datasets_its_active_agreements_name(serving, agreements, log_con, tmp_path):
    files = make_extract(serving, "County Council", tmp_path, TODAY, log_con, agreements=agreements)
    folder = tmp_path / "county-council" / TODAY.isoformat()
    expected = ["README.txt", "hfsv_by_ward_month.csv", "incidents_by_ward_month.csv"]
    assert sorted(p.name for p in folder.iterdir()) == expected
    assert sorted(p.name for p in files) == sorted(p.name for p in folder.iterdir())
    readme = (folder / "README.txt").read_text()
    for text in ("ISA-1", "Testing", "UK GDPR Art. 6(1)(e) public task", "2027-03-31", "shown as *", "nearest 5"):
        assert text in readme

    # Police: one agreement in force, one expired. The expired dataset is refused (and logged), the other is sent.
    make_extract(serving, "Police", tmp_path, TODAY, log_con, agreements=agreements)
    assert sorted(p.name for p in (tmp_path / "police" / TODAY.isoformat()).glob("*.csv")) == [
        "deliberate_fires_by_ward_month.csv"
    ]
    police = _log(log_con).query("partner == 'Police'")
    assert sorted(police[["dataset", "status"]].values.tolist()) == [
        ["deliberate_fires_by_ward_month", "extracted"], ["kpi_monthly_by_station", "refused"],
    ]
    assert "expired on 2026-06-30" in police.query("status == 'refused'").reason.iloc[0]


def test_public_release_only_gets_datasets_cleared_for_publication(serving, agreements, log_con, tmp_path):
    make_extract(serving, "Open data", tmp_path, TODAY, log_con, agreements=agreements)
    names = sorted(p.name for p in (tmp_path / "open-data" / TODAY.isoformat()).glob("*.csv"))
    assert names == ["workforce_diversity_by_station.csv"]
    refused = _log(log_con).query("status == 'refused'")
    assert refused.dataset.tolist() == ["incidents_by_ward_month"]
    assert "not cleared for public release" in refused.reason.iloc[0]


def test_every_extract_is_logged_with_its_hash(analyst_extract):
    files, log = analyst_extract
    csvs = [p for p in files if p.suffix == ".csv"]
    assert sorted(p.stem for p in csvs) == sorted(DATASETS)
    extracted = log.query("status == 'extracted'").set_index("dataset")
    for path in csvs:
        entry = extracted.loc[path.stem]
        assert entry.agreement_id == "ISA-6"
        assert entry.file == str(path)
        assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry.rows == len(pd.read_csv(path, dtype=str))


def test_log_is_append_only_across_runs(serving, agreements, log_con, tmp_path):
    make_extract(serving, "County Council", tmp_path, TODAY, log_con, agreements=agreements)
    make_extract(serving, "County Council", tmp_path, TODAY, log_con, agreements=agreements)
    log = _log(log_con)
    assert log.log_id.tolist() == [1, 2, 3, 4]
    assert (log.status == "extracted").all()


@pytest.mark.slow  # extracts every dataset: over 0.7 s of CPU
def test_share_for_all_active_partners_skips_lapsed_agreements(serving, agreements, log_con, tmp_path):
    results = share_for_all_active_partners(serving, tmp_path, TODAY, log_con, agreements=agreements)
    assert set(results) == {"County Council", "Police", "Analyst Partner", "Open data"}
    assert all(results.values())
    assert not (tmp_path / "housing-association").exists()
    assert not (tmp_path / "future-partner").exists()


# --- extracts: aggregates only, disclosure control, no recovery -----------------------------


def test_extracts_hold_no_personal_or_row_level_data(analyst_extract, serving):
    files, _ = analyst_extract
    with duckdb.connect(str(serving), read_only=True) as con:
        secrets = [r[0] for r in con.execute(
            "select incident_id from marts.fct_incidents union all select incident_sk from marts.fct_incidents "
            "union all select visit_sk from marts.fct_home_fire_safety_visits "
            "union all select workforce_sk from marts.fct_workforce_monthly"
        ).fetchall()]
    for path in files:
        if path.suffix != ".csv":
            continue
        dataset = DATASETS[path.stem]
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert list(frame.columns) == dataset.layout.output_columns
        check_columns(list(frame.columns), path.name)
        assert not [c for c in frame.columns if "staff_" in c or c.endswith(("_sk", "_id")) or c.startswith("_")]
        # grouped: exactly one row per (slice, row, column) cell of a grid with totals
        assert not frame.duplicated(dataset.layout.key_columns).any()
        assert (frame[dataset.layout.row_dim] == TOTAL).any() and (frame[dataset.layout.col_dim] == TOTAL).any()
        text = path.read_text()
        assert "secret_source" not in text
        assert not any(f",{s}," in text or text.startswith(f"{s},") for s in secrets[:200] + secrets[-200:])
        for count in dataset.layout.count_columns:
            values = frame[count][frame[count] != ""]
            shown = values[values != SUPPRESSED].astype(int)
            assert (shown % 5 == 0).all(), f"{path.name}.{count} has unrounded figures"
            assert not shown.between(1, 7).any()


def test_registry_queries_are_aggregates_over_marts_only():
    for dataset in DATASETS.values():
        check_dataset(dataset)  # group by, marts only, no personal column names
        assert dataset.level != "national"  # so disclosure control always applies to what we share today
    bad = Dataset(name="bad", title="", description="", sql="select * from raw.staff", layout=DATASETS[
        "hfsv_by_ward_month"].layout, level="ward")
    with pytest.raises(ValueError, match="group by"):
        check_dataset(bad)
    with pytest.raises(ValueError, match="raw"):
        check_dataset(Dataset(**{**bad.__dict__, "sql": "select 1 from raw.staff group by 1"}))
    for column in ("staff_id", "incident_sk", "first_name", "surname", "employee_number", "call_at", "_source_file"):
        with pytest.raises(ValueError):
            check_columns([column], "test")


def test_suppressed_cells_cannot_be_recovered_from_extract_totals(analyst_extract):
    files, _ = analyst_extract
    tables = 0
    hidden = 0
    for path in files:
        if path.suffix != ".csv":
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for grid in _tables(frame, DATASETS[path.stem].layout):
            tables += 1
            hidden += int(np.equal(grid, None).sum())
            assert _subtraction_attack(grid) == set(), f"{path.name}: cells recovered by subtraction"
            assert _linear_attack(grid) == set(), f"{path.name}: cells recovered by combining lines"
    assert tables >= 10 and hidden > 100  # the attack really had something to attack


def test_linked_workforce_tables_hide_the_same_station_totals(analyst_extract):
    files, _ = analyst_extract
    path = next(p for p in files if p.stem == "workforce_diversity_by_station")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    totals = frame[frame.category == TOTAL].pivot(index="station_code", columns="characteristic", values="staff")
    assert (totals.gender == totals.ethnicity).all()
    shares = frame[(frame.category == TOTAL) & (frame.staff != SUPPRESSED)].pct_of_station
    assert (shares.isin(["100.0", ""])).all()


# --- disclosure functions ---------------------------------------------------------------------


def test_a_kpi_not_recorded_is_shared_empty_never_as_zero(serving, tmp_path):
    """Confinement not recorded in one month of the period: the KPI's cells are all empty (a
    grid is all figures or none), while the recorded KPIs keep theirs."""
    copy = tmp_path / "serving.duckdb"
    copy.write_bytes(serving.read_bytes())
    dataset = DATASETS["kpi_monthly_by_station"]
    with duckdb.connect(str(copy)) as con:
        con.execute("insert into marts.dim_kpi values ('ADF_CONFINED_PCT', 'Confined to room', 'percent')")
        con.execute(
            "insert into marts.rpt_kpi_monthly (kpi_code, org_unit_id, org_level, service_id, org_unit_name, "
            "period_month, numerator, denominator) "
            "select 'ADF_CONFINED_PCT', org_unit_id, org_level, service_id, org_unit_name, period_month, "
            "case when period_month = date '2026-06-01' then null else 1 end, "
            "case when period_month = date '2026-06-01' then null else 2 end "
            "from marts.rpt_kpi_monthly where kpi_code = 'INC_TOTAL'"
        )
        frame = dataset.query(con, SERVICE, dt.date(2026, 1, 1), dt.date(2026, 6, 1))
    confined = frame[frame.kpi_code == "ADF_CONFINED_PCT"]
    assert len(confined) > 0 and confined.numerator.isna().all() and confined.denominator.isna().all()
    incidents = frame[frame.kpi_code == "INC_TOTAL"]
    assert incidents.numerator.notna().all() and incidents.numerator.sum() > 0
    table = protect_frame(frame, dataset.layout, exempt=False)
    published = table[table.kpi_code == "ADF_CONFINED_PCT"]
    assert set(published.value) == {""} and published.numerator.isna().all()


def test_primary_suppression_and_rounding():
    assert [publish_count(v) for v in range(0, 9)] == [0] + [SUPPRESSED] * 7 + [10]
    assert [round_to_base(v) for v in (10, 11, 12, 13, 14, 15, 102, 103)] == [10, 10, 10, 15, 15, 15, 100, 105]
    with pytest.raises(ValueError):
        round_to_base(-1)


def test_totals_come_from_unrounded_values_then_are_rounded():
    published = protect_table(np.array([[8, 8, 8]]))
    assert published.tolist() == [[10, 10, 10, 25], [10, 10, 10, 25]]  # 24 → 25, not 10 + 10 + 10


def test_percentages_come_from_rounded_values():
    assert ratio(15, 10 + 0) == "150.0"
    assert ratio(10, 15) == "66.7"  # 8 of 13 is 61.5%, but the published 10 of 15 gives 66.7
    assert ratio(SUPPRESSED, 15) == SUPPRESSED and ratio(10, SUPPRESSED) == SUPPRESSED
    assert ratio(0, 0) == ""
    spec = TableSpec(row_dim="ward", col_dim="month", count_columns=("visits", "high"),
                     ratios=(Ratio("pct", "high", "visits"),))
    cells = pd.DataFrame({"ward": ["a", "b"], "month": ["m1", "m1"], "visits": [13, 40], "high": [8, 20]})
    out = protect_frame(cells, spec).set_index(["ward", "month"])
    assert out.loc[("a", "m1"), ["visits", "high", "pct"]].tolist() == [15, 10, "66.7"]
    assert out.loc[(TOTAL, TOTAL), ["visits", "high", "pct"]].tolist() == [55, 30, "54.5"]  # 53 → 55, 28 → 30


def test_a_line_with_one_suppressed_cell_gets_a_second():
    interior = np.array([[3, 20, 40], [30, 25, 50], [12, 60, 45]])
    published = protect_table(interior)
    row = published[0]
    assert row[0] == SUPPRESSED and row[1] == SUPPRESSED  # 20 is the next-smallest non-zero in the row
    column = published[:, 0]
    assert list(column).count(SUPPRESSED) >= 2
    assert _subtraction_attack(np.where(published == SUPPRESSED, None, published)) == set()


def test_line_rule_alone_leaves_a_bridge_which_is_then_closed():
    grid = with_totals(np.full((5, 5), 50))
    mask = np.zeros(grid.shape, dtype=bool)
    for cell in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        mask[cell] = True  # two 2×2 blocks joined by (1, 2): every line holds 0 or ≥ 2 suppressed cells
    exposed = np.where(mask, None, grid).astype(object)
    assert _subtraction_attack(exposed) == set()
    assert _linear_attack(exposed) == {(1, 2)}  # yet the joining cell can be solved for
    protected = secondary_suppression(grid, mask)
    assert _linear_attack(np.where(protected, None, grid).astype(object)) == set()


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_resist_recovery(seed: int):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(2, 9, size=2))
    small = rng.random(shape) < rng.uniform(0.1, 0.7)
    interior = np.where(small, rng.integers(0, 8, size=shape), rng.integers(8, 80, size=shape))
    published = protect_table(interior)
    grid = np.where(published == SUPPRESSED, None, published).astype(object)
    assert _subtraction_attack(grid) == set()
    assert _linear_attack(grid) == set()
    truth = with_totals(interior)
    shown = published != SUPPRESSED
    assert not ((truth >= 1) & (truth <= 7) & shown).any()
    assert all(published[i, j] == round_to_base(int(truth[i, j])) for i, j in zip(*np.nonzero(shown), strict=True))


def test_national_level_is_exempt():
    spec = TableSpec(row_dim="region", col_dim="month", count_columns=("fires",))
    cells = pd.DataFrame({"region": ["England"], "month": ["m1"], "fires": [3]})
    assert protect_frame(cells, spec, exempt=True).fires.tolist() == [3, 3, 3, 3]
    assert protect_frame(cells, spec).fires.tolist() == [SUPPRESSED] * 4


def test_protect_frame_rejects_row_level_input():
    spec = TableSpec(row_dim="ward", col_dim="month", count_columns=("n",))
    rows = pd.DataFrame({"ward": ["a", "a"], "month": ["m1", "m1"], "n": [1, 1]})
    with pytest.raises(ValueError, match="not an aggregate"):
        protect_frame(rows, spec)
    with pytest.raises(ValueError, match="undeclared"):
        protect_frame(rows.assign(incident_id="X"), spec)


# --- command line -------------------------------------------------------------------------------


@pytest.fixture
def data_dir(serving: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "serving.duckdb").write_bytes(serving.read_bytes())
    monkeypatch.setenv("GT_DATA_DIR", str(data))
    return data


def test_cli_refusal_exits_2_with_the_reason_and_logs_it(data_dir: Path, capsys: pytest.CaptureFixture[str]):
    # the seed register's housing association agreement expired on 2025-09-30
    assert cli.main(["--partner", "Blackwater Homes Housing Association", "--date", TODAY.isoformat()]) == 2
    assert "expired on 2025-09-30" in capsys.readouterr().err
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select status from audit.sharing_log").fetchall() == [("refused",)]


def test_cli_writes_under_gt_data_dir_shared(data_dir: Path, capsys: pytest.CaptureFixture[str]):
    assert cli.main(["--partner", "essex-police", "--date", TODAY.isoformat()]) == 0
    assert (data_dir / "shared" / "essex-police" / TODAY.isoformat() / "deliberate_fires_by_ward_month.csv").exists()
    assert "logged in audit.sharing_log" in capsys.readouterr().out


def test_cli_reports_a_locked_warehouse(data_dir: Path, capsys: pytest.CaptureFixture[str]):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
         str(data_dir / "warehouse.duckdb")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert cli.main(["--partner", "essex-police", "--date", TODAY.isoformat()]) == 1
        assert "pipeline run is in progress" in capsys.readouterr().err
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


# --- wards: boundary changes and the geography rows of the KPI report -------------------------


def test_ward_extracts_report_a_retired_ward_under_its_successor(serving):
    """Incidents recorded under a ward a boundary review replaced are counted in its successor
    (Abbey), and the retired ward is no row of its own: no ward is published twice."""
    dataset = DATASETS["incidents_by_ward_month"]
    start, end = dt.date(2025, 11, 1), dt.date(2026, 10, 1)
    with duckdb.connect(str(serving), read_only=True) as con:
        cells = dataset.query(con, SERVICE, start, end)
        recorded = con.execute(
            "select ward_sk, count(*) from marts.fct_incidents where period_month between ? and ? group by ward_sk",
            [start, end],
        ).fetchall()
    by_ward = dict(recorded)
    assert by_ward[RETIRED_WARD] > 0
    assert RETIRED_WARD.split("-")[1] not in set(cells.ward_code)
    abbey = cells[cells.ward_code == "E05000001"].incidents.sum()
    assert abbey == by_ward[f"{SERVICE}-E05000001"] + by_ward[RETIRED_WARD]
    assert cells.incidents.sum() == sum(by_ward.values())


def test_kpi_ward_extract_protects_the_small_ward_cells(analyst_extract):
    """The KPI report's ward rows go out with the same small-number rule as every table below
    national level: no count of 1-7 shown, every shown count a multiple of 5, and the UNALLOCATED
    ward is a row so the wards add up to the service."""
    files, _ = analyst_extract
    path = next(p for p in files if p.stem == "kpi_monthly_by_ward")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert "UNALLOCATED" in set(frame.ward_code)
    assert set(frame.kpi_code) == {"INC_TOTAL", "RESP_STD_MET_PCT"}
    shown = frame.numerator[(frame.numerator != "") & (frame.numerator != SUPPRESSED)].astype(int)
    assert (shown % 5 == 0).all() and not shown.between(1, 7).any()
    assert (frame.numerator == SUPPRESSED).sum() > 10  # ward counts are small: many cells hidden
    values = frame[(frame.kpi_code == "RESP_STD_MET_PCT") & (frame.numerator == SUPPRESSED)].value
    assert (values == SUPPRESSED).all()  # a percentage of a hidden count is hidden too
