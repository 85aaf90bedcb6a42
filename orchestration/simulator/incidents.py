"""Incidents (IRS) and mobilisations: daily volumes with trend, seasonality and time of day by
incident stream, IRS-consistent attributes, and one timed mobilising record per appliance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.simulator import catalogue as cat
from orchestration.simulator.config import Period
from orchestration.simulator.frames import Frame, obj
from orchestration.simulator.org import Org


@dataclass(frozen=True)
class Stream:
    """A slice of demand with its own rhythm (e.g. automatic fire alarms in offices)."""

    name: str
    category: str
    share: float  # of all incidents
    season: tuple[float, ...]  # Jan..Dec
    weekday: tuple[float, ...]  # Mon..Sun
    hours: tuple[float, ...]  # 0..23
    trend: float  # multiplier per year
    weekend_hours: tuple[float, ...] | None = None


_EVENING = (
    2.0,
    1.6,
    1.3,
    1.1,
    0.9,
    0.8,
    0.9,
    1.2,
    1.5,
    1.7,
    1.9,
    2.1,
    2.3,
    2.4,
    2.5,
    2.7,
    3.0,
    3.3,
    3.5,
    3.4,
    3.2,
    3.0,
    2.7,
    2.3,
)
_OUTDOOR = (
    1.2,
    0.8,
    0.6,
    0.4,
    0.3,
    0.3,
    0.3,
    0.4,
    0.6,
    0.8,
    1.1,
    1.5,
    2.0,
    2.6,
    3.2,
    3.8,
    4.3,
    4.6,
    4.8,
    4.6,
    4.0,
    3.2,
    2.4,
    1.7,
)
_OFFICE = (
    0.5,
    0.4,
    0.4,
    0.35,
    0.35,
    0.4,
    0.8,
    1.8,
    3.2,
    3.8,
    3.9,
    3.8,
    3.7,
    3.6,
    3.5,
    3.3,
    2.9,
    2.2,
    1.5,
    1.1,
    0.9,
    0.8,
    0.7,
    0.6,
)
_FLAT = (
    1.0,
    0.8,
    0.7,
    0.6,
    0.6,
    0.6,
    0.8,
    1.1,
    1.3,
    1.4,
    1.5,
    1.5,
    1.5,
    1.5,
    1.5,
    1.5,
    1.5,
    1.6,
    1.6,
    1.5,
    1.4,
    1.3,
    1.2,
    1.1,
)
_HOME = (
    0.8,
    0.6,
    0.5,
    0.4,
    0.4,
    0.5,
    1.0,
    1.8,
    2.0,
    1.6,
    1.4,
    1.5,
    1.7,
    1.5,
    1.4,
    1.5,
    1.9,
    2.4,
    2.6,
    2.3,
    1.9,
    1.6,
    1.3,
    1.0,
)
_ROADS = (
    0.6,
    0.5,
    0.4,
    0.3,
    0.4,
    0.8,
    1.6,
    2.8,
    3.0,
    2.0,
    1.8,
    1.9,
    2.0,
    2.1,
    2.3,
    2.8,
    3.4,
    3.5,
    2.8,
    2.2,
    1.8,
    1.5,
    1.2,
    0.9,
)
_WEEK = (1.0, 1.0, 1.0, 1.0, 1.05, 1.1, 1.05)

STREAMS: tuple[Stream, ...] = (
    Stream(
        "primary",
        "primary_fire",
        0.15,
        (1.0, 0.92, 0.97, 1.02, 1.03, 1.02, 1.08, 1.06, 0.97, 0.96, 0.98, 1.0),
        _WEEK,
        _EVENING,
        0.965,
    ),
    Stream(
        "secondary",
        "secondary_fire",
        0.14,
        (0.5, 0.55, 0.95, 1.45, 1.3, 1.3, 1.65, 1.55, 1.0, 0.75, 0.8, 0.5),
        (0.9, 0.9, 0.9, 0.95, 1.1, 1.2, 1.1),
        _OUTDOOR,
        0.965,
    ),
    Stream(
        "chimney",
        "chimney_fire",
        0.01,
        (2.3, 2.0, 1.5, 0.8, 0.3, 0.1, 0.1, 0.1, 0.3, 0.9, 1.7, 2.2),
        _WEEK,
        _EVENING,
        0.965,
    ),
    Stream(
        "afa_nondom",
        "false_alarm",
        0.142,
        (1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.08, 1.04, 1.0, 1.0, 1.0, 0.95),
        (1.3, 1.3, 1.3, 1.3, 1.25, 0.45, 0.35),
        _OFFICE,
        1.0,
        _FLAT,
    ),
    Stream(
        "afa_res",
        "false_alarm",
        0.173,
        (1.05, 1.0, 1.0, 0.98, 0.98, 1.0, 1.02, 1.0, 0.98, 1.0, 1.0, 1.05),
        _WEEK,
        _HOME,
        1.0,
    ),
    Stream(
        "good_intent",
        "false_alarm",
        0.117,
        (0.85, 0.85, 1.0, 1.1, 1.1, 1.15, 1.25, 1.2, 1.0, 0.9, 0.9, 0.85),
        _WEEK,
        _FLAT,
        1.0,
    ),
    Stream(
        "malicious",
        "false_alarm",
        0.018,
        (1.0,) * 12,
        (0.9, 0.9, 0.9, 0.95, 1.15, 1.3, 1.2),
        _EVENING,
        0.97,
    ),
    Stream(
        "rtc",
        "special_service",
        0.067,
        (1.1, 1.0, 0.95, 0.92, 0.95, 0.95, 0.95, 0.95, 1.0, 1.05, 1.12, 1.12),
        (1.05, 1.05, 1.05, 1.05, 1.1, 0.9, 0.8),
        _ROADS,
        0.99,
    ),
    Stream(
        "special_other",
        "special_service",
        0.183,
        (1.1, 1.05, 1.0, 0.95, 0.95, 0.95, 1.0, 1.0, 0.95, 1.0, 1.05, 1.1),
        _WEEK,
        _FLAT,
        1.01,
    ),
)

SPECIAL_TYPES = {
    "flooding": 0.13,
    "lift_release": 0.08,
    "assist_other_agency": 0.27,
    "animal_rescue": 0.06,
    "medical": 0.10,
    "effecting_entry": 0.16,
    "hazmat": 0.04,
    "water_rescue": 0.03,
    "other_special_service": 0.13,
}
SPECIAL_PROPERTY = {
    "flooding": {"dwelling": 0.6, "non_domestic": 0.2, "outdoor": 0.2},
    "lift_release": {"other_residential": 0.3, "non_domestic": 0.4, "dwelling": 0.3},
    "assist_other_agency": {"dwelling": 0.75, "outdoor": 0.25},
    "animal_rescue": {"outdoor": 0.8, "dwelling": 0.2},
    "medical": {"dwelling": 0.85, "outdoor": 0.15},
    "effecting_entry": {"dwelling": 0.9, "non_domestic": 0.1},
    "hazmat": {"non_domestic": 0.5, "outdoor": 0.3, "vehicle": 0.2},
    "water_rescue": {"outdoor": 1.0},
    "other_special_service": {"dwelling": 0.4, "non_domestic": 0.2, "outdoor": 0.3, "other": 0.1},
}
PROPERTY_BY_STREAM = {
    "primary": {
        "dwelling": 0.33,
        "vehicle": 0.30,
        "non_domestic": 0.20,
        "outdoor_structure": 0.10,
        "other_residential": 0.04,
        "other": 0.03,
    },
    "secondary": {"outdoor": 0.82, "other": 0.09, "vehicle": 0.09},
    "chimney": {"dwelling": 1.0},
    "afa_nondom": {"non_domestic": 1.0},
    "afa_res": {"dwelling": 0.55, "other_residential": 0.45},
    "good_intent": {"dwelling": 0.4, "outdoor": 0.35, "non_domestic": 0.15, "vehicle": 0.1},
    "malicious": {"outdoor": 0.45, "dwelling": 0.25, "non_domestic": 0.2, "other_residential": 0.1},
    "rtc": {"vehicle": 1.0},
}
MOTIVE_BY_PROPERTY = {
    "dwelling": (0.80, 0.15, 0.05),
    "other_residential": (0.85, 0.10, 0.05),
    "non_domestic": (0.72, 0.22, 0.06),
    "vehicle": (0.55, 0.40, 0.05),
    "outdoor_structure": (0.45, 0.50, 0.05),
    "outdoor": (0.33, 0.62, 0.05),
    "other": (0.30, 0.60, 0.10),
}
CONFINED_SHARE = {"dwelling": 0.87, "other_residential": 0.9, "non_domestic": 0.75}
# Mean casualties per incident: serious, slight, first aid, precautionary, fatalities, rescues.
CASUALTY_RATES = {
    ("primary", "dwelling"): (0.02, 0.09, 0.06, 0.12, 0.006, 0.05),
    ("primary", "other_residential"): (0.01, 0.05, 0.04, 0.10, 0.004, 0.03),
    ("primary", "non_domestic"): (0.005, 0.03, 0.02, 0.05, 0.001, 0.01),
    ("primary", "vehicle"): (0.01, 0.03, 0.01, 0.02, 0.003, 0.01),
    ("primary", "outdoor_structure"): (0.002, 0.01, 0.01, 0.01, 0.0, 0.0),
    ("primary", "other"): (0.002, 0.01, 0.01, 0.01, 0.001, 0.0),
    ("rtc", "vehicle"): (0.08, 0.35, 0.15, 0.2, 0.002, 0.18),
    ("special_other", "medical"): (0.03, 0.15, 0.1, 0.0, 0.0, 0.02),
    ("special_other", "water_rescue"): (0.05, 0.1, 0.05, 0.1, 0.0, 0.4),
    ("special_other", "assist_other_agency"): (0.02, 0.08, 0.05, 0.0, 0.0, 0.05),
    ("special_other", "hazmat"): (0.01, 0.05, 0.05, 0.1, 0.0, 0.0),
    ("special_other", "effecting_entry"): (0.01, 0.05, 0.03, 0.0, 0.0, 0.08),
}
# Appliances attending: probabilities for 1, 2, 3, ... appliances.
APPLIANCE_MIX = {
    ("primary", "dwelling"): (0.08, 0.55, 0.22, 0.08, 0.03, 0.02, 0.01, 0.01),
    ("primary", "other_residential"): (0.08, 0.4, 0.25, 0.12, 0.06, 0.04, 0.03, 0.02),
    ("primary", "non_domestic"): (0.1, 0.4, 0.25, 0.12, 0.06, 0.04, 0.02, 0.01),
    ("primary", "vehicle"): (0.75, 0.22, 0.03),
    ("primary", None): (0.5, 0.4, 0.1),
    ("secondary", None): (0.85, 0.13, 0.02),
    ("chimney", None): (0.7, 0.3),
    ("afa_nondom", None): (0.45, 0.45, 0.1),
    ("afa_res", None): (0.6, 0.4),
    ("good_intent", None): (0.7, 0.3),
    ("malicious", None): (0.85, 0.15),
    ("rtc", None): (0.5, 0.4, 0.1),
    ("special_other", None): (0.85, 0.15),
}


def pick(rng: np.random.Generator, n: int, weights: dict[str, float]) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return obj(keys)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _norm(values: tuple[float, ...]) -> np.ndarray:
    arr = np.array(values, dtype=float)
    return arr / arr.mean()


@dataclass
class IncidentDraw:
    """Incidents plus the internal arrays mobilising needs."""

    frame: Frame
    call_at: np.ndarray  # datetime64[s]
    station: np.ndarray  # ground station index
    appliances: np.ndarray


def _day_rates(org: Org, period: Period, rng: np.random.Generator) -> np.ndarray:
    days = period.days
    month = days.astype("datetime64[M]").astype(int) % 12
    dom = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    dow = (days.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
    years = (days - days[0]).astype(int) / 365.25
    years -= years.mean()  # trend pivots on the middle of the period
    busy = rng.gamma(25.0, 1 / 25.0, len(days))  # weather, events: busy and quiet days
    rates = np.empty((len(days), len(STREAMS)))
    for j, s in enumerate(STREAMS):
        lam = org.spec.incidents_per_year * s.share / 365.25
        lam = lam * _norm(s.season)[month] * _norm(s.weekday)[dow] * s.trend**years * busy
        if s.name == "secondary":
            # Dry spells in spring and summer, bonfire night.
            weeks = (days - days[0]).astype(int) // 7
            spell = rng.gamma(2.5, 1 / 2.5, weeks.max() + 1)[weeks]
            lam = lam * np.where((month >= 3) & (month <= 8), spell, 1.0)
            bonfire = {(9, 31): 1.5, (10, 4): 1.8, (10, 5): 4.5, (10, 6): 1.8}
            for (m, d), f in bonfire.items():
                lam = np.where((month == m) & (dom == d), lam * f, lam)
        rates[:, j] = lam
    return rates


def generate_incidents(org: Org, period: Period, rng: np.random.Generator) -> IncidentDraw:
    days = period.days
    counts = rng.poisson(_day_rates(org, period, rng))
    n_streams = len(STREAMS)
    flat = counts.ravel()
    day_idx = np.repeat(np.repeat(np.arange(len(days)), n_streams), flat)
    stream_idx = np.repeat(np.tile(np.arange(n_streams), len(days)), flat)
    n = len(day_idx)
    dow = (days[day_idx].astype(int) + 3) % 7

    hour = np.zeros(n, dtype=np.int64)
    for j, s in enumerate(STREAMS):
        m = stream_idx == j
        if s.weekend_hours is not None:
            for mask, hours in ((m & (dow < 5), s.hours), (m & (dow >= 5), s.weekend_hours)):
                p = np.array(hours) / sum(hours)
                hour[mask] = rng.choice(24, size=mask.sum(), p=p)
        else:
            p = np.array(s.hours) / sum(s.hours)
            hour[m] = rng.choice(24, size=m.sum(), p=p)
    seconds = hour * 3600 + rng.integers(0, 3600, n)
    call_at = days[day_idx].astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    order = np.argsort(call_at, kind="stable")
    call_at, stream_idx = call_at[order], stream_idx[order]

    # Place each incident in a ward; the ward's station ground is the incident's ground.
    st = org.ward_station
    wt = org.is_wholetime()[st]
    pop = org.ward_population.astype(float)
    risk = org.ward_risk * org.station_fire_risk[st]
    ward_weights = {
        "primary": pop * risk,
        "secondary": pop * risk**1.5,
        "chimney": org.ward_dwellings * np.where(wt, 1.0, 2.5),
        "afa_nondom": org.ward_non_domestic.astype(float),
        "afa_res": org.ward_dwellings * np.where(wt, 1.3, 1.0),
        "good_intent": pop,
        "malicious": pop * risk**1.5,
        "rtc": pop**0.8 * np.where(wt, 1.0, 1.6),
        "special_other": pop,
    }
    ward = np.empty(n, dtype=np.int64)
    category = obj(None, n)
    itype = obj(None, n)
    prop = obj(None, n)
    for j, s in enumerate(STREAMS):
        m = np.flatnonzero(stream_idx == j)
        w = ward_weights[s.name]
        ward[m] = rng.choice(len(w), size=len(m), p=w / w.sum())
        category[m] = s.category
        if s.category in ("primary_fire", "secondary_fire", "chimney_fire"):
            itype[m] = "fire"
        elif s.name in ("afa_nondom", "afa_res"):
            itype[m] = "apparatus"
        elif s.name in ("good_intent", "malicious"):
            itype[m] = s.name
        elif s.name == "rtc":
            itype[m] = "rtc"
        else:
            itype[m] = pick(rng, len(m), SPECIAL_TYPES)
        if s.name == "special_other":
            for t, props in SPECIAL_PROPERTY.items():
                mt = m[itype[m] == t]
                prop[mt] = pick(rng, len(mt), props)
        else:
            prop[m] = pick(rng, len(m), PROPERTY_BY_STREAM[s.name])

    stream_name = obj([s.name for s in STREAMS])[stream_idx]
    ptype = obj(None, n)
    for pc, types in cat.PROPERTY_TYPES.items():
        m = np.flatnonzero(prop == pc)
        ptype[m] = pick(rng, len(m), types)
    # Stream-specific property types: abandoned vehicles and derelict buildings are secondary
    # fires; chimney fires are in houses; RTCs involve road vehicles; water rescues in water.
    sec = stream_name == "secondary"
    ptype[sec & (prop == "vehicle")] = "Abandoned vehicle"
    ptype[sec & (prop == "other")] = "Derelict building"
    chim = np.flatnonzero(stream_name == "chimney")
    ptype[chim] = pick(
        rng, len(chim), {"House - single occupancy": 0.75, "Bungalow - single occupancy": 0.25}
    )
    rtc = np.flatnonzero(stream_name == "rtc")
    ptype[rtc] = pick(rng, len(rtc), cat.RTC_VEHICLES)
    water = np.flatnonzero(itype == "water_rescue")
    ptype[water] = pick(rng, len(water), cat.WATER_PLACES)

    is_fire = itype == "fire"
    motive = obj(None, n)
    for pc, (acc, delib, nk) in MOTIVE_BY_PROPERTY.items():
        m = np.flatnonzero(is_fire & (prop == pc))
        motive[m] = pick(rng, len(m), {"accidental": acc, "deliberate": delib, "not_known": nk})
    motive[stream_name == "chimney"] = "accidental"

    confined = obj(None, n)
    for pc, share in CONFINED_SHARE.items():
        m = np.flatnonzero((stream_name == "primary") & (prop == pc))
        confined[m] = rng.random(len(m)) < share
    late = obj(rng.random(n) < 0.01)

    cas = np.zeros((n, 6), dtype=np.int64)
    for (sname, key), rates in CASUALTY_RATES.items():
        ref = itype if sname == "special_other" else prop
        m = np.flatnonzero((stream_name == sname) & (ref == key))
        cas[m] = rng.poisson(np.array(rates), size=(len(m), 6))

    appliances = np.ones(n, dtype=np.int64)
    for (sname, pc), mix in APPLIANCE_MIX.items():
        m = stream_name == sname
        if pc is not None:
            m &= prop == pc
        elif sname == "primary":
            m &= ~np.isin(prop, ["dwelling", "other_residential", "non_domestic", "vehicle"])
        idx = np.flatnonzero(m)
        appliances[idx] = rng.choice(len(mix), size=len(idx), p=np.array(mix) / sum(mix)) + 1

    years = call_at.astype("datetime64[Y]").astype(int) + 1970
    seq = np.ones(n, dtype=np.int64)
    if n:
        starts = np.r_[True, years[1:] != years[:-1]]
        group_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
        seq = np.arange(n) - group_start + 1
    sid = org.spec.service_id
    incident_id = obj(
        [f"{sid}-{y}-{s:06d}" for y, s in zip(years.tolist(), seq.tolist(), strict=True)]
    )
    station = org.ward_station[ward]

    frame: Frame = {
        "incident_id": incident_id,
        "call_at": call_at,
        "station_ground": org.station_id[station],
        "ward_code": org.ward_code[ward],
        "incident_category": category,
        "incident_type": itype,
        "property_category": prop,
        "property_type": ptype,
        "motive": motive,
        "is_confined_to_room": confined,
        "is_late_call": late,
        "casualties_hospital_serious": cas[:, 0],
        "casualties_hospital_slight": cas[:, 1],
        "casualties_first_aid": cas[:, 2],
        "casualties_precautionary": cas[:, 3],
        "fatalities": cas[:, 4],
        "rescues": cas[:, 5],
        "appliances_attending": appliances,
        "first_pump_attendance_seconds": obj(None, n),
    }
    return IncidentDraw(frame, call_at, station, appliances)


def _candidates(org: Org, own_first: bool, width: int = 12) -> np.ndarray:
    """(stations, width) appliance indices in mobilising order, -1 padded.

    Own pumps then the nearest stations' pumps, specials last; or, when the own station cannot
    send the first appliance, the nearest neighbour's pumps first.
    """
    n = org.n_stations
    out = np.full((n, width), -1, dtype=np.int64)
    pumps = [np.flatnonzero((org.appliance_station == s) & org.appliance_is_pump) for s in range(n)]
    specials = [
        np.flatnonzero((org.appliance_station == s) & ~org.appliance_is_pump) for s in range(n)
    ]
    for s in range(n):
        near = np.argsort(org.distance_km[s], kind="stable")  # starts with s itself
        seq: list[int] = []
        if own_first:
            for t in near[:8]:
                seq.extend(pumps[t].tolist())
        else:
            others = near[1:8]
            if len(others):
                seq.extend(pumps[others[0]].tolist())
            seq.extend(pumps[s].tolist())
            for t in others[1:]:
                seq.extend(pumps[t].tolist())
        for t in near[:4]:
            seq.extend(specials[t].tolist())
        seq = seq[:width]
        out[s, : len(seq)] = seq
    return out


def generate_mobilisations(org: Org, inc: IncidentDraw, rng: np.random.Generator) -> Frame:
    n = len(inc.call_at)
    own_cand = _candidates(org, True)
    nb_cand = _candidates(org, False)
    valid = np.minimum((own_cand >= 0).sum(1), (nb_cand >= 0).sum(1))
    count = np.minimum(inc.appliances, valid[inc.station])
    # Keep the incident's recorded appliance count equal to the mobilising records.
    inc.frame["appliances_attending"] = count
    hour = inc.call_at.astype("datetime64[h]").astype(np.int64) % 24
    duty = org.station_duty[inc.station]
    p_own = np.where(duty == "on_call", 0.5 + 0.45 * org.station_availability[inc.station], 0.94)
    own = rng.random(n) < p_own

    rows = np.repeat(np.arange(n), count)
    starts = np.cumsum(count) - count
    pos = np.arange(len(rows)) - starts[rows]
    ground = inc.station[rows]
    app = np.where(own[rows], own_cand[ground, pos], nb_cand[ground, pos])
    home = org.appliance_station[app]
    m = len(rows)

    handling = np.clip(rng.lognormal(np.log(75), 0.45, n), 15, 600)[rows]
    later = (pos > 0) & (rng.random(m) < 0.35)  # make-up pumps requested after arrival
    extra = np.where(later, np.clip(rng.lognormal(np.log(300), 0.8, m), 30, 1500), 0.0)
    handling = np.round(handling + extra)
    a_duty = org.appliance_duty[app]
    daytime = (hour[rows] >= 8) & (hour[rows] < 18)
    wholetime_crewed = (a_duty == "wholetime") | ((a_duty == "day_crewed") & daytime)
    turnout = np.where(
        wholetime_crewed,
        np.clip(rng.lognormal(np.log(90), 0.35, m), 20, 420),
        np.clip(rng.lognormal(np.log(300), 0.28, m), 90, 900),
    ).round()
    dist = org.distance_km[home, ground]
    base = np.where(
        home == ground,
        330.0 * org.station_drive[ground],
        (150 + 75 * dist) * np.sqrt(org.station_drive[home]),
    )
    drive = base * rng.lognormal(0.0, 0.4, m)
    # Clean data always has 60 s <= total response <= 3,600 s (faults break this on purpose).
    drive = np.round(np.clip(drive, 30, 3590 - handling - turnout))

    call = inc.call_at[rows]
    mobilised = call + handling.astype("timedelta64[s]")
    mobile = mobilised + turnout.astype("timedelta64[s]")
    attend = mobile + drive.astype("timedelta64[s]")
    # pump_order follows arrival, so pump 1 is the first appliance in attendance.
    order = np.lexsort((attend, rows))
    rows, app, home = rows[order], app[order], home[order]
    call, mobilised, mobile, attend = call[order], mobilised[order], mobile[order], attend[order]
    pump = pos  # positions are already 0..count-1 per incident in row order
    incident_id = inc.frame["incident_id"][rows]
    mob_id = obj([f"{i}-{p + 1}" for i, p in zip(incident_id.tolist(), pump.tolist(), strict=True)])
    return {
        "mobilisation_id": mob_id,
        "incident_id": incident_id,
        "appliance_id": org.appliance_id[app],
        "station_id": org.station_id[home],
        "call_received_at": call,
        "mobilised_at": mobilised,
        "mobile_at": mobile,
        "in_attendance_at": attend,
        "pump_order": pump + 1,
    }
