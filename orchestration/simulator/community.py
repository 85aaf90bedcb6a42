"""Prevention (home fire safety visits), protection (fire safety audits), on-call appliance
availability and safeguarding referrals.
"""

from __future__ import annotations

import numpy as np

from orchestration.simulator import catalogue as cat
from orchestration.simulator.config import Period
from orchestration.simulator.frames import Frame, obj
from orchestration.simulator.incidents import pick
from orchestration.simulator.org import Org

ESSEX_POPULATION = 1_850_000
ESSEX_NON_DOMESTIC = 55_000
FIRE_WATCHES = ("Red", "White", "Blue", "Green")


def _daily(
    period: Period,
    per_year: float,
    weekday: tuple[float, ...],
    season: tuple[float, ...],
    trend: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Day index of every event for a Poisson process with weekday, seasonal and trend shape."""
    days = period.days
    month = days.astype("datetime64[M]").astype(int) % 12
    dow = (days.astype(int) + 3) % 7
    years = (days - days[0]).astype(int) / 365.25
    years -= years.mean()
    wk = np.array(weekday) / np.mean(weekday)
    se = np.array(season) / np.mean(season)
    lam = per_year / 365.25 * wk[dow] * se[month] * trend**years
    return np.repeat(np.arange(len(days)), rng.poisson(lam))


def _watch_for(
    org: Org, station: np.ndarray, rng: np.random.Generator, p_wt_watch: float
) -> np.ndarray:
    n = len(station)
    duty = org.station_duty[station]
    u = rng.random(n)
    watch = obj(None, n)
    fire = obj(FIRE_WATCHES)[rng.integers(4, size=n)]
    wt = duty == "wholetime"
    watch[wt & (u < p_wt_watch)] = fire[wt & (u < p_wt_watch)]
    watch[wt & (u >= p_wt_watch) & (u < p_wt_watch + 0.15)] = "Day"
    dc = duty == "day_crewed"
    watch[dc] = np.where(u[dc] < 0.7, "Day", "On-call")
    oc = duty == "on_call"
    watch[oc & (u < 0.85)] = "On-call"
    return watch


def generate_hfsv(org: Org, period: Period, rng: np.random.Generator) -> Frame:
    sid = org.spec.service_id
    per_year = 9000 * org.spec.population / ESSEX_POPULATION
    day = _daily(
        period,
        per_year,
        (1.2, 1.2, 1.2, 1.2, 1.0, 0.15, 0.05),
        (1.0, 1.05, 1.1, 1.05, 1.0, 1.0, 0.9, 0.75, 1.0, 1.05, 1.05, 0.75),
        1.03,
        rng,
    )
    n = len(day)
    st = org.ward_station
    type_w = np.where(
        org.station_duty == "wholetime", 2.5, np.where(org.station_duty == "day_crewed", 1.5, 0.8)
    )
    w = org.ward_population * org.ward_risk * type_w[st]
    ward = rng.choice(len(w), size=n, p=w / w.sum())
    station = st[ward]
    # Targeting varies by station: most visits go to high-risk households.
    p_high = np.clip(0.6 + rng.normal(0, 0.04, org.n_stations), 0.5, 0.72)[station]
    u = rng.random(n)
    risk = obj(np.where(u < p_high, "high", np.where(u < p_high + 0.27, "medium", "low")))
    referral = pick(
        rng,
        n,
        {
            "Partner agency": 0.3,
            "Self-referral": 0.15,
            "Post-incident": 0.1,
            "Health partner": 0.15,
            "Police": 0.05,
            "Housing provider": 0.1,
            "Family or friend": 0.1,
            "": 0.05,
        },
    )
    referral[referral == ""] = None
    return {
        "visit_id": obj([f"{sid}-HV-{i + 1:07d}" for i in range(n)]),
        "visit_date": period.days[day],
        "station_id": org.station_id[station],
        "watch": _watch_for(org, station, rng, 0.8),
        "ward_code": org.ward_code[ward],
        "household_risk": risk,
        "visit_type": pick(
            rng,
            n,
            {
                "Safe and Well visit": 0.7,
                "Home fire safety check": 0.15,
                "Post-incident visit": 0.08,
                "Revisit": 0.07,
            },
        ),
        "referral_source": referral,
    }


def generate_audits(org: Org, period: Period, rng: np.random.Generator) -> Frame:
    sid = org.spec.service_id
    nd = org.ward_non_domestic
    per_year = 1800 * nd.sum() / ESSEX_NON_DOMESTIC
    day = _daily(
        period,
        per_year,
        (1.0, 1.0, 1.0, 1.0, 0.9, 0.0, 0.0),
        (1.0, 1.05, 1.1, 1.0, 1.0, 1.0, 0.95, 0.8, 1.0, 1.05, 1.05, 0.8),
        1.0,
        rng,
    )
    n = len(day)
    ward = rng.choice(len(nd), size=n, p=nd / nd.sum())
    station = org.ward_station[ward]
    offset = np.cumsum(nd) - nd
    premises = offset[ward] + (rng.random(n) * np.maximum(nd[ward], 1)).astype(np.int64)
    types = cat.PREMISES_TYPES
    t = rng.choice(len(types), size=n, p=np.array([x[1] for x in types]) / sum(x[1] for x in types))
    band = pick(rng, n, {"very_high": 0.08, "high": 0.27, "medium": 0.45, "low": 0.2})
    rbip_p = {"very_high": 0.95, "high": 0.85, "medium": 0.65, "low": 0.4}
    band_f = {"very_high": 1.3, "high": 1.1, "medium": 0.9, "low": 0.7}
    rbip = rng.random(n) < np.array([rbip_p[b] for b in band])
    p_unsat = np.array([types[i][2] for i in t]) * np.array([band_f[b] for b in band]) * 0.9
    outcome = obj(np.where(rng.random(n) < p_unsat, "unsatisfactory", "satisfactory"))
    watch = obj(None, n)
    wt = (org.station_duty[station] == "wholetime") & (rng.random(n) < 0.35)
    watch[wt] = obj(FIRE_WATCHES)[rng.integers(4, size=int(wt.sum()))]
    ward_code = org.ward_code[ward].copy()
    ward_code[rng.random(n) < 0.03] = None
    return {
        "audit_id": obj([f"{sid}-FSA-{i + 1:06d}" for i in range(n)]),
        "audit_date": period.days[day],
        "station_id": org.station_id[station],
        "watch": watch,
        "ward_code": ward_code,
        "premises_id": obj([f"{sid}-PR-{p:06d}" for p in premises.tolist()]),
        "premises_type": obj([x[0] for x in types])[t],
        "risk_band": band,
        "is_rbip": obj(rbip),
        "outcome": outcome,
    }


def generate_availability(org: Org, period: Period, rng: np.random.Generator) -> Frame:
    """One row per on-call or day-crewed appliance per day: hours available for crewing."""
    apps = np.flatnonzero(np.isin(org.appliance_duty, ["on_call", "day_crewed"]))
    days = period.days
    if len(apps) == 0:
        return {
            "station_id": obj([]),
            "appliance_id": obj([]),
            "availability_date": days[:0],
            "hours_available": np.zeros(0),
        }
    station = org.appliance_station[apps]
    base = org.station_availability[station].copy()
    # Second pumps are harder to crew; day-crewed pumps are crewed wholetime by day.
    is_second = np.array([a.endswith("P2") for a in org.appliance_id[apps]])
    base = np.where(is_second, base - 0.04, base)
    base = np.where(org.appliance_duty[apps] == "day_crewed", 0.97, base)
    month = days.astype("datetime64[M]").astype(int) % 12
    dow = (days.astype(int) + 3) % 7
    season = np.array([0, 0, 0, 0, 0, -0.01, -0.04, -0.06, 0, 0, 0, -0.03])[month]
    weekend = np.where(dow >= 5, 0.03, 0.0)
    share = (
        base[None, :] + (season + weekend)[:, None] + rng.normal(0, 0.12, (len(days), len(apps)))
    )
    hours = np.round(np.clip(share, 0, 1) * 24 * 4) / 4
    d_idx = np.repeat(np.arange(len(days)), len(apps))
    a_idx = np.tile(np.arange(len(apps)), len(days))
    return {
        "station_id": org.station_id[station][a_idx],
        "appliance_id": org.appliance_id[apps][a_idx],
        "availability_date": days[d_idx],
        "hours_available": hours.ravel(),
    }


def generate_referrals(org: Org, period: Period, rng: np.random.Generator) -> Frame:
    sid = org.spec.service_id
    scale = org.spec.population / ESSEX_POPULATION
    weekday = (1.1, 1.1, 1.1, 1.1, 1.0, 0.3, 0.2)
    season = (1.0,) * 12
    made = _daily(period, 400 * scale, weekday, season, 1.04, rng)
    received = _daily(period, 150 * scale, weekday, season, 1.02, rng)
    day = np.concatenate([made, received])
    direction = obj(["made"] * len(made) + ["received"] * len(received))
    order = np.argsort(day, kind="stable")
    day, direction = day[order], direction[order]
    n = len(day)
    station_pop = np.bincount(
        org.ward_station, weights=org.ward_population, minlength=org.n_stations
    )
    w = station_pop * org.station_fire_risk
    station = rng.choice(org.n_stations, size=n, p=w / w.sum())
    partners = cat.ESSEX_PARTNERS if sid == cat.DEMO_SERVICE_ID else cat.GENERIC_PARTNERS
    return {
        "referral_id": obj([f"{sid}-SG-{i + 1:06d}" for i in range(n)]),
        "referral_date": period.days[day],
        "direction": direction,
        "station_id": org.station_id[station],
        "partner_agency": obj(partners)[rng.integers(len(partners), size=n)],
        "subject_group": obj(np.where(rng.random(n) < 0.82, "adult", "child")),
        "concern_type": pick(
            rng,
            n,
            {
                "Self-neglect": 0.22,
                "Hoarding": 0.15,
                "Domestic abuse": 0.14,
                "Financial abuse": 0.06,
                "Neglect or acts of omission": 0.12,
                "Physical abuse": 0.05,
                "Mental health crisis": 0.12,
                "Fire-setting behaviour": 0.08,
                "Exploitation": 0.06,
            },
        ),
    }
