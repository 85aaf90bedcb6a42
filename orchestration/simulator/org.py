"""The organisation and geography of one simulated service: stations, groups, wards, appliances,
and the persistent station traits (fire risk, drive times, on-call availability) that make
some station grounds consistently better or worse than others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from orchestration.simulator import catalogue as cat
from orchestration.simulator.catalogue import ServiceSpec
from orchestration.simulator.config import Period
from orchestration.simulator.frames import Frame, obj

DUTY = {"wt": "wholetime", "dc": "day_crewed", "oc": "on_call"}
WATCHES_BY_DUTY = {
    "wholetime": "Red;White;Blue;Green;Day",
    "day_crewed": "Day;On-call",
    "on_call": "On-call",
}
PEOPLE_PER_WARD = 6200
DWELLINGS_PER_PERSON = 1 / 2.33
NON_DOMESTIC_PER_PERSON = 0.0297


@dataclass
class Org:
    spec: ServiceSpec
    # stations (index order is the station index used everywhere else)
    station_id: np.ndarray
    station_name: np.ndarray
    station_duty: np.ndarray  # contract duty system codes
    station_lad_code: np.ndarray
    station_xy: np.ndarray  # (n, 2) metres, British National Grid style
    station_fire_risk: np.ndarray  # persistent multiplier on fire and ASB incident rates
    station_drive: np.ndarray  # persistent multiplier on drive times
    station_availability: np.ndarray  # base on-call availability (0..1)
    distance_km: np.ndarray  # (n, n)
    # wards
    ward_code: np.ndarray
    ward_station: np.ndarray  # station index
    ward_population: np.ndarray
    ward_dwellings: np.ndarray
    ward_non_domestic: np.ndarray
    ward_risk: np.ndarray
    # appliances
    appliance_id: np.ndarray
    appliance_station: np.ndarray
    appliance_duty: np.ndarray
    appliance_is_pump: np.ndarray
    # reference extracts
    stations: Frame
    wards: Frame
    appliances: Frame

    @property
    def n_stations(self) -> int:
        return len(self.station_id)

    def is_wholetime(self) -> np.ndarray:
        return self.station_duty == "wholetime"

    @property
    def ward_successors(self) -> Frame:
        """A boundary review: two retired ward codes, no longer in the ward list, replaced by the first
        two current wards. It exercises the optional reference; no record is simulated under them."""
        n = min(2, len(self.ward_code))
        retired = np.array([f"E05{self.spec.index:02d}R{k + 1:03d}" for k in range(n)], dtype=object)
        return {"ward_code": retired, "successor_ward_code": self.ward_code[:n].astype(object)}


def _place_names(rng: np.random.Generator, n: int) -> list[str]:
    """Unique plausible English place names (services other than Essex)."""
    combos = [h + t for h in cat.PLACE_HEADS for t in cat.PLACE_TAILS]
    picked = rng.choice(len(combos), size=n, replace=False)
    return [combos[i] for i in picked]


def _layout_essex() -> tuple[list[str], list[str], list[str], np.ndarray, list[str], list[str]]:
    ids = [s[0] for s in cat.ESSEX_STATIONS]
    names = [s[1] for s in cat.ESSEX_STATIONS]
    lads = [s[2] for s in cat.ESSEX_STATIONS]
    xy = np.array([[s[3], s[4]] for s in cat.ESSEX_STATIONS], dtype=float)
    duty = [DUTY[s[5]] for s in cat.ESSEX_STATIONS]
    groups = [cat.essex_group_of(lad) for lad in lads]
    return ids, names, lads, xy, duty, groups


def _layout_synthetic(
    spec: ServiceSpec, rng: np.random.Generator
) -> tuple[list[str], list[str], list[str], np.ndarray, list[str], list[str]]:
    n = spec.stations
    # Wholetime stations cluster in the urban core, on-call stations ring the rural edge.
    n_wt = max(1, round(n * spec.wholetime_share))
    n_dc = 0 if spec.wholetime_share >= 0.95 else min(n - n_wt, max(1, round(n * 0.08)))
    duty = ["wholetime"] * n_wt + ["day_crewed"] * n_dc + ["on_call"] * (n - n_wt - n_dc)
    radius_km = np.sqrt(spec.population / 400) * 0.9  # rough county extent
    frac = np.concatenate(
        [
            rng.uniform(0.0, 0.45, n_wt),
            rng.uniform(0.3, 0.75, n_dc),
            rng.uniform(0.4, 1.0, n - n_wt - n_dc),
        ]
    )
    angle = rng.uniform(0, 2 * np.pi, n)
    centre = np.array(
        [350000 + (spec.index * 7919) % 200000, 150000 + (spec.index * 104729) % 350000]
    )
    xy = centre + np.c_[np.cos(angle), np.sin(angle)] * (frac * radius_km * 1000)[:, None]
    xy = np.round(xy)
    n_groups = int(np.clip(round(n / 13), 2, 10))
    n_lads = int(np.clip(round(n / 4), 2, 33))
    order = np.argsort(angle, kind="stable")
    group_of = np.empty(n, dtype=int)
    lad_of = np.empty(n, dtype=int)
    group_of[order] = np.arange(n) * n_groups // n
    lad_of[order] = np.arange(n) * n_lads // n
    names = _place_names(rng, n + n_lads)
    lad_names = [f"{names[n + k]} District" for k in range(n_lads)]
    letters = "ABCDEFGHJK"
    ids, counter = [], {}
    for i in range(n):
        g = int(group_of[i])
        counter[g] = counter.get(g, 0) + 1
        ids.append(f"{letters[g]}{counter[g]:02d}")
    groups = [letters[g] for g in group_of]
    return ids, names[:n], [lad_names[k] for k in lad_of], xy, duty, groups


def build_org(spec: ServiceSpec, period: Period, rng: np.random.Generator) -> Org:
    sid = spec.service_id
    is_essex = sid == cat.DEMO_SERVICE_ID
    if is_essex:
        ids, names, lad_names, xy, duty, groups = _layout_essex()
        group_names = dict(cat.ESSEX_GROUPS)
    else:
        ids, names, lad_names, xy, duty, groups = _layout_synthetic(spec, rng)
        group_names = {g: f"Group {g}" for g in sorted(set(groups))}
    n = len(ids)
    duty_arr = obj(duty)
    lad_list = sorted(set(lad_names), key=lad_names.index)
    lad_code = {name: f"E07{spec.index:02d}{k + 1:04d}" for k, name in enumerate(lad_list)}
    station_lad = obj([lad_code[x] for x in lad_names])

    # Persistent station traits.
    fire_risk = rng.lognormal(0.0, 0.25, n)
    worse = rng.choice(n, size=min(3, n), replace=False)
    fire_risk[worse] *= 1.6
    base_drive = np.where(
        duty_arr == "wholetime", 1.0, np.where(duty_arr == "day_crewed", 1.25, 1.5)
    )
    drive = base_drive * rng.lognormal(0.0, 0.1, n)
    slower = rng.choice(n, size=min(2, n), replace=False)
    drive[slower] *= 1.3
    availability = rng.uniform(0.74, 0.97, n)
    availability[rng.choice(n, size=min(2, n), replace=False)] = rng.uniform(0.69, 0.73, min(2, n))

    diff = xy[:, None, :] - xy[None, :, :]
    dist = np.sqrt((diff**2).sum(-1)) / 1000.0

    # Wards: urban grounds hold more wards; every ward lies in exactly one station ground.
    target_wards = max(n * 2, round(spec.population / PEOPLE_PER_WARD))
    weight = np.where(duty_arr == "wholetime", 12.0, np.where(duty_arr == "day_crewed", 6.0, 3.5))
    per_station = np.maximum(2, np.round(weight / weight.sum() * target_wards)).astype(int)
    ward_station = np.repeat(np.arange(n), per_station)
    nw = len(ward_station)
    pop = rng.lognormal(0.0, 0.3, nw)
    pop = np.round(pop / pop.sum() * spec.population).astype(np.int64)
    dwell = np.round(pop * DWELLINGS_PER_PERSON * rng.uniform(0.94, 1.06, nw)).astype(np.int64)
    urban = np.where(duty_arr[ward_station] == "wholetime", 1.4, 0.75)
    nd = urban * rng.lognormal(0.0, 0.35, nw) * pop
    nd = np.round(nd / nd.sum() * spec.population * NON_DOMESTIC_PER_PERSON).astype(np.int64)
    ward_risk = rng.lognormal(0.0, 0.3, nw)
    ward_code = obj([f"E05{spec.index:02d}{k + 1:04d}" for k in range(nw)])
    ward_name = []
    for s in range(n):
        for k in range(per_station[s]):
            suffix = cat.WARD_SUFFIXES[k % len(cat.WARD_SUFFIXES)]
            extra = f" {k // len(cat.WARD_SUFFIXES) + 1}" if k >= len(cat.WARD_SUFFIXES) else ""
            ward_name.append(f"{names[s]} {suffix}{extra}")

    # Appliances: pumps first, then any special appliance.
    app_id, app_station, app_type, app_duty, app_pump = [], [], [], [], []
    specials = dict(cat.ESSEX_SPECIALS) if is_essex else {}
    if not is_essex:
        for s in np.flatnonzero(duty_arr == "wholetime"):
            if rng.random() < 0.3:
                specials[ids[s]] = "Aerial ladder platform"
    for s in range(n):
        d = duty_arr[s]
        if d == "wholetime":
            pumps = [("Rescue pump", "wholetime"), ("Pump", "wholetime")]
        elif d == "day_crewed":
            pumps = [("Rescue pump", "day_crewed"), ("Pump", "on_call")]
        else:
            pumps = [("Pump", "on_call")]
            if rng.random() < 0.4:
                pumps.append(("Pump", "on_call"))
        for k, (atype, adut) in enumerate(pumps, start=1):
            app_id.append(f"{sid}-{ids[s]}P{k}")
            app_station.append(s)
            app_type.append(atype)
            app_duty.append(adut)
            app_pump.append(True)
        if ids[s] in specials:
            app_id.append(f"{sid}-{ids[s]}S1")
            app_station.append(s)
            app_type.append(specials[ids[s]])
            app_duty.append(d)
            app_pump.append(False)

    # Station reference rows, with one station moving group part-way through the period.
    if is_essex:
        mover_id, new_group = cat.ESSEX_MOVING_STATION
        mover = ids.index(mover_id)
    else:
        mover = int(rng.integers(n))
        others = sorted(set(groups) - {groups[mover]})
        new_group = others[int(rng.integers(len(others)))] if others else groups[mover]
    months = period.months
    y, m = months[len(months) // 2]
    change = dt.date(y, m, 1)
    start = np.datetime64(period.start, "D")
    rows: dict[str, list] = {
        k: []
        for k in (
            "station_id",
            "station_name",
            "group_id",
            "group_name",
            "duty_system",
            "watches",
            "lad_code",
            "easting",
            "northing",
            "valid_from",
            "valid_to",
        )
    }

    def add(s: int, group: str, valid_from: np.datetime64, valid_to: np.datetime64) -> None:
        rows["station_id"].append(ids[s])
        rows["station_name"].append(names[s])
        rows["group_id"].append(f"{sid}-G{group}")
        rows["group_name"].append(group_names.get(group, f"Group {group}"))
        rows["duty_system"].append(duty_arr[s])
        rows["watches"].append(WATCHES_BY_DUTY[duty_arr[s]])
        rows["lad_code"].append(station_lad[s])
        rows["easting"].append(xy[s, 0])
        rows["northing"].append(xy[s, 1])
        rows["valid_from"].append(valid_from)
        rows["valid_to"].append(valid_to)

    nat = np.datetime64("NaT", "D")
    for s in range(n):
        if s == mover:
            add(s, groups[s], start, np.datetime64(change, "D") - 1)
            add(s, new_group, np.datetime64(change, "D"), nat)
        else:
            add(s, groups[s], start, nat)
    stations: Frame = {
        k: (
            np.array(v, dtype="datetime64[D]")
            if k.startswith("valid")
            else np.array(v, dtype=float)
            if k in ("easting", "northing")
            else obj(v)
        )
        for k, v in rows.items()
    }
    wards: Frame = {
        "ward_code": ward_code,
        "ward_name": obj(ward_name),
        "lad_code": station_lad[ward_station],
        "lad_name": obj([lad_names[s] for s in ward_station]),
        "station_id": obj(ids)[ward_station],
        "population": pop,
        "dwellings": dwell,
        "non_domestic_properties": nd,
        "vintage_year": np.full(nw, 2021, dtype=np.int64),
    }
    appliances: Frame = {
        "appliance_id": obj(app_id),
        "station_id": obj([ids[s] for s in app_station]),
        "appliance_type": obj(app_type),
        "duty_system": obj(app_duty),
    }
    return Org(
        spec=spec,
        station_id=obj(ids),
        station_name=obj(names),
        station_duty=duty_arr,
        station_lad_code=station_lad,
        station_xy=xy,
        station_fire_risk=fire_risk,
        station_drive=drive,
        station_availability=availability,
        distance_km=dist,
        ward_code=ward_code,
        ward_station=ward_station,
        ward_population=pop,
        ward_dwellings=dwell,
        ward_non_domestic=nd,
        ward_risk=ward_risk,
        appliance_id=obj(app_id),
        appliance_station=np.array(app_station),
        appliance_duty=obj(app_duty),
        appliance_is_pump=np.array(app_pump),
        stations=stations,
        wards=wards,
        appliances=appliances,
    )
