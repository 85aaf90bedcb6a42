"""The workforce: staff with joiners and leavers, sickness absence episodes, HR cases and the
competence (skill renewal) records of operational staff.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.simulator import catalogue as cat
from orchestration.simulator.config import Period
from orchestration.simulator.frames import Frame, obj
from orchestration.simulator.incidents import pick
from orchestration.simulator.org import Org

DAY = np.timedelta64(1, "D")
FIRE_WATCHES = ("Red", "White", "Blue", "Green")


@dataclass(frozen=True)
class StaffGroup:
    name: str
    leave_rate: float  # per year
    sickness: float  # relative episode rate
    days_per_shift: float  # calendar days per working shift lost
    roles: dict[str, float]


GROUPS = (
    StaffGroup(
        "wholetime",
        0.06,
        1.0,
        2.0,
        {
            "Firefighter": 0.64,
            "Crew Manager": 0.16,
            "Watch Manager": 0.11,
            "Station Manager": 0.06,
            "Group Manager": 0.025,
            "Area Manager": 0.005,
        },
    ),
    StaffGroup(
        "on_call",
        0.11,
        0.8,
        1.5,
        {"Firefighter": 0.76, "Crew Manager": 0.14, "Watch Manager": 0.10},
    ),
    StaffGroup(
        "control",
        0.08,
        1.3,
        2.0,
        {
            "Control Operator": 0.72,
            "Crew Manager (Control)": 0.16,
            "Watch Manager (Control)": 0.10,
            "Station Manager (Control)": 0.02,
        },
    ),
    StaffGroup(
        "support",
        0.10,
        0.95,
        1.4,
        {
            "Administrator": 0.2,
            "Fire Safety Inspector": 0.12,
            "Community Safety Advisor": 0.12,
            "ICT Analyst": 0.08,
            "HR Advisor": 0.06,
            "Finance Officer": 0.06,
            "Vehicle Technician": 0.08,
            "Data Analyst": 0.04,
            "Project Manager": 0.06,
            "Procurement Officer": 0.04,
            "Facilities Officer": 0.06,
            "Learning and Development Officer": 0.08,
        },
    ),
)
MANAGERS = {"Station Manager", "Group Manager", "Area Manager"}
JOINER_ROLE = {"wholetime": "Firefighter", "on_call": "Firefighter", "control": "Control Operator"}
SKILLS = {"BA": 365, "ICS": 730, "WAH": 730, "RTC": 730, "CASUALTY_CARE": 1095, "DRIVING": 1461}
ABSENCE_SEASON = np.array([1.35, 1.25, 1.1, 0.95, 0.85, 0.8, 0.8, 0.8, 0.9, 1.0, 1.1, 1.3])
REASONS = {
    "Mental health": 0.2,
    "Musculoskeletal": 0.24,
    "Respiratory": 0.14,
    "Gastrointestinal": 0.11,
    "Injury - on duty": 0.06,
    "Injury - off duty": 0.06,
    "Hospital or medical procedure": 0.07,
    "Other": 0.12,
}
CASE_TYPES = {
    "Grievance": 0.25,
    "Disciplinary": 0.25,
    "Capability - attendance": 0.25,
    "Capability - performance": 0.1,
    "Bullying and harassment": 0.1,
    "Whistleblowing": 0.05,
}


def headcounts(org: Org) -> dict[str, int]:
    duty = org.station_duty
    n_wt, n_dc, n_oc = (int((duty == d).sum()) for d in ("wholetime", "day_crewed", "on_call"))
    wt = 42 * n_wt + 6 * n_dc
    oc = 15 * n_oc + 12 * n_dc
    control = 30 + org.spec.incidents_per_year // 500
    support = round(0.25 * (wt + oc + control))
    return {"wholetime": wt, "on_call": oc, "control": control, "support": support}


@dataclass
class Workforce:
    staff: Frame
    absences: Frame
    cases: Frame
    competence: Frame


def _d(day: np.datetime64) -> np.datetime64:
    return np.datetime64(day, "D")


def _people(org: Org, period: Period, rng: np.random.Generator) -> dict[str, list]:
    """Posts filled at the period start, and a replacement joiner for every leaver."""
    p_start, p_end = _d(period.start), _d(period.end)
    duty = org.station_duty
    cols: dict[str, list] = {k: [] for k in ("group", "station", "watch", "role", "start", "leave")}
    for g in GROUPS:
        count = headcounts(org)[g.name]
        if count == 0:
            continue
        if g.name == "wholetime":
            st_w = np.where(duty == "wholetime", 42.0, np.where(duty == "day_crewed", 6.0, 0.0))
        elif g.name == "on_call":
            st_w = np.where(duty == "on_call", 15.0, np.where(duty == "day_crewed", 12.0, 0.0))
        else:
            st_w = None
        tenure = rng.uniform(0, 30 if g.name != "support" else 25, count) * 365.25
        queue: list[tuple[np.datetime64, int | None, str | None, str]] = []
        for k in range(count):
            start = p_start - int(tenure[k]) * DAY - DAY
            station = int(rng.choice(len(duty), p=st_w / st_w.sum())) if st_w is not None else None
            role = str(pick(rng, 1, g.roles)[0])
            queue.append((start, station, None, role))
        while queue:
            start, station, watch, role = queue.pop()
            if watch is None:
                watch = _watch(g.name, role, None if station is None else duty[station], rng)
            from_day = max(start, p_start)
            leave = from_day + int(rng.exponential(365.25 / g.leave_rate)) * DAY
            if leave > p_end:
                leave = None
            cols["group"].append(g.name)
            cols["station"].append(station)
            cols["watch"].append(watch)
            cols["role"].append(role)
            cols["start"].append(start)
            cols["leave"].append(leave)
            if leave is not None:
                joined = leave + int(rng.uniform(30, 150)) * DAY
                if g.name == "wholetime":  # recruits start on a training course: March or September
                    y = joined.astype("datetime64[Y]").astype(int) + 1970
                    courses = [
                        np.datetime64(f"{yy}-{mm:02d}-01") for yy in (y, y + 1) for mm in (3, 9)
                    ]
                    joined = min(c for c in courses if c >= joined)
                if joined <= p_end:
                    queue.append(
                        (
                            joined,
                            station,
                            watch if g.name != "wholetime" or role not in MANAGERS else None,
                            JOINER_ROLE.get(g.name, role),
                        )
                    )
    return cols


def _watch(group: str, role: str, station_duty: str | None, rng: np.random.Generator) -> str | None:
    if group == "wholetime":
        if station_duty == "day_crewed" or role in MANAGERS:
            return "Day"
        return FIRE_WATCHES[int(rng.integers(4))]
    if group == "on_call":
        return "On-call"
    if group == "control":
        return "Day" if rng.random() < 0.1 else FIRE_WATCHES[int(rng.integers(4))]
    return None


def generate_workforce(org: Org, period: Period, rng: np.random.Generator) -> Workforce:
    sid = org.spec.service_id
    people = _people(org, period, rng)
    n = len(people["group"])
    group = obj(people["group"])
    start = np.array(people["start"], dtype="datetime64[D]")
    leave = np.array(
        [np.datetime64("NaT") if v is None else v for v in people["leave"]], dtype="datetime64[D]"
    )
    start_year = start.astype("datetime64[Y]").astype(int) + 1970
    uniformed = np.isin(group, ["wholetime", "on_call"])

    # Women and ethnic-minority shares rise with each recruitment cohort.
    p_female = np.where(
        uniformed,
        np.clip(0.005 + 0.0042 * (start_year - 1990), 0.01, 0.2),
        np.where(group == "control", 0.75, 0.58),
    )
    u = rng.random(n)
    gender = obj(np.where(u < p_female, "female", "male"))
    odd = rng.random(n)
    gender[odd < 0.005] = "not_stated"
    gender[(odd >= 0.005) & (odd < 0.007)] = "other"
    p_em = np.where(
        uniformed,
        np.clip(0.02 + 0.002 * (start_year - 1990), 0.02, 0.12),
        np.where(group == "control", 0.06, 0.09),
    )
    ethnicity = obj(np.where(rng.random(n) < p_em, "em", "white"))
    em = np.flatnonzero(ethnicity == "em")
    ethnicity[em] = pick(rng, len(em), {"mixed": 0.3, "asian": 0.35, "black": 0.25, "other": 0.1})
    ethnicity[rng.random(n) < 0.02] = "not_stated"

    first = obj(None, n)
    fem = gender == "female"
    first[fem] = obj(cat.FIRST_NAMES_F)[rng.integers(len(cat.FIRST_NAMES_F), size=fem.sum())]
    first[~fem] = obj(cat.FIRST_NAMES_M)[rng.integers(len(cat.FIRST_NAMES_M), size=(~fem).sum())]
    last = obj(cat.LAST_NAMES)[rng.integers(len(cat.LAST_NAMES), size=n)]

    fte = np.ones(n)
    for g, values, probs in (
        ("wholetime", (1.0, 0.8), (0.96, 0.04)),
        ("on_call", (0.25, 0.5, 0.75, 1.0), (0.2, 0.35, 0.3, 0.15)),
        ("control", (1.0, 0.8), (0.9, 0.1)),
        ("support", (1.0, 0.8, 0.6), (0.75, 0.15, 0.1)),
    ):
        m = group == g
        fte[m] = rng.choice(values, size=m.sum(), p=probs)

    numbers = rng.choice(900000, size=n, replace=False) + 100000
    staff_number = obj([f"{sid}{x:06d}" for x in numbers])
    station_idx = people["station"]
    station_id = obj([None if s is None else org.station_id[s] for s in station_idx])
    order = np.argsort(numbers, kind="stable")
    staff: Frame = {
        "staff_number": staff_number,
        "first_name": first,
        "last_name": last,
        "staff_group": group,
        "role": obj(people["role"]),
        "is_operational": obj(uniformed),
        "gender": gender,
        "ethnicity": ethnicity,
        "station_id": station_id,
        "watch": obj(people["watch"]),
        "fte": fte,
        "start_date": start,
        "leave_date": leave,
    }
    staff = {k: v[order] for k, v in staff.items()}
    absences = _absences(sid, staff, period, rng)
    cases = _cases(sid, staff, period, rng)
    competence = _competence(sid, staff, period, rng)
    return Workforce(staff, absences, cases, competence)


def _window(staff: Frame, period: Period) -> tuple[np.ndarray, np.ndarray]:
    """Each person's employment inside the period (start, end inclusive)."""
    lo = np.maximum(staff["start_date"], _d(period.start))
    leave = staff["leave_date"]
    hi = np.where(np.isnat(leave), _d(period.end), leave)
    return lo, hi


def _absences(sid: str, staff: Frame, period: Period, rng: np.random.Generator) -> Frame:
    lo, hi = _window(staff, period)
    span = np.maximum((hi - lo).astype(int) + 1, 0)
    rate = np.array([{g.name: g.sickness for g in GROUPS}[x] for x in staff["staff_group"]])
    accept_mean = ABSENCE_SEASON.mean() / ABSENCE_SEASON.max()
    # Roughly 8 shifts lost per FTE a year: ~1 episode a year of ~8.2 shifts on average.
    expected = 1.1 * rate * span / 365.25 / accept_mean
    k = rng.poisson(expected)
    who = np.repeat(np.arange(len(k)), k)
    day = lo[who] + (rng.random(len(who)) * span[who]).astype(int) * DAY
    month = day.astype("datetime64[M]").astype(int) % 12
    keep = rng.random(len(who)) < ABSENCE_SEASON[month] / ABSENCE_SEASON.max()
    who, day, month = who[keep], day[keep], month[keep]
    m = len(who)
    kind = rng.choice(3, size=m, p=[0.7, 0.22, 0.08])
    shifts = np.where(
        kind == 0,
        1 + rng.poisson(1.0, m),
        np.where(
            kind == 1,
            rng.integers(3, 21, m),
            np.clip(rng.lognormal(np.log(45), 0.6, m), 20, 300).round(),
        ),
    )
    dps = np.array(
        [{g.name: g.days_per_shift for g in GROUPS}[x] for x in staff["staff_group"][who]]
    )
    duration = np.ceil(shifts * dps).astype(int)
    end = day + (duration - 1) * DAY
    # Episodes still running at the extract are open (no end date, shifts lost so far); a
    # leaver's episode ends on the leaving date.
    limit = hi[who]
    still_employed = np.isnat(staff["leave_date"][who])
    cut = end > limit
    elapsed = (limit - day).astype(int) + 1
    shifts = np.where(cut, np.maximum(1, np.floor(shifts * elapsed / duration)), shifts)
    end = np.where(cut, np.where(still_employed, np.datetime64("NaT"), limit), end)
    lost = np.maximum(0.5, np.round(shifts * staff["fte"][who] * 2) / 2)
    reason = pick(rng, m, REASONS)
    winter = np.isin(month, [10, 11, 0, 1, 2])
    resp = winter & (rng.random(m) < 0.12)
    reason[resp] = "Respiratory"
    long = kind == 2
    reason[long] = pick(
        rng,
        int(long.sum()),
        {"Mental health": 0.45, "Musculoskeletal": 0.4, "Hospital or medical procedure": 0.15},
    )
    order = np.lexsort((who, day))
    return {
        "absence_id": obj([f"{sid}-AB-{i + 1:07d}" for i in range(m)]),
        "staff_number": staff["staff_number"][who][order],
        "start_date": day[order],
        "end_date": end.astype("datetime64[D]")[order],
        "shifts_lost": lost[order],
        "reason_category": reason[order],
    }


def _cases(sid: str, staff: Frame, period: Period, rng: np.random.Generator) -> Frame:
    lo, hi = _window(staff, period)
    n_staff = len(lo)
    # About 100 cases a year per 1,500 staff in post.
    in_post = np.maximum((hi - lo).astype(int) + 1, 0).sum() / period.n_days
    n = rng.poisson(100 * in_post / 1500 * period.n_days / 365.25)
    opened = _d(period.start) + np.sort(rng.integers(0, period.n_days, n)) * DAY
    who = np.empty(n, dtype=np.int64)
    for i in range(n):
        while True:  # someone in post on the day the case opened
            j = int(rng.integers(n_staff))
            if lo[j] <= opened[i] <= hi[j]:
                who[i] = j
                break
    duration = np.clip(rng.lognormal(np.log(50), 0.6, n), 5, 400).astype(int)
    closed = opened + duration * DAY
    closed = np.where(closed > _d(period.end), np.datetime64("NaT"), closed).astype("datetime64[D]")
    return {
        "case_id": obj([f"{sid}-HR-{i + 1:05d}" for i in range(n)]),
        "staff_number": staff["staff_number"][who],
        "case_type": pick(rng, n, CASE_TYPES),
        "opened_date": opened,
        "closed_date": closed,
    }


def _competence(sid: str, staff: Frame, period: Period, rng: np.random.Generator) -> Frame:
    """Skill records of operational staff; each renewal is a new record. Most renew before
    expiry, some late, which leaves a lapsed spell."""
    lo, hi = _window(staff, period)
    p_start = _d(period.start)
    who_l, skill_l, achieved_l, expiry_l = [], [], [], []
    operational = np.flatnonzero(staff["is_operational"].astype(bool))
    for j in operational:
        if hi[j] < lo[j]:
            continue
        for skill, valid in SKILLS.items():
            first_course = staff["start_date"][j] + int(rng.uniform(30, 180)) * DAY
            in_force = p_start - int(rng.uniform(0, valid)) * DAY
            achieved = max(first_course, in_force)
            while achieved <= hi[j]:
                expiry = achieved + valid * DAY
                who_l.append(j)
                skill_l.append(skill)
                achieved_l.append(achieved)
                expiry_l.append(expiry)
                if rng.random() < 0.88:
                    achieved = expiry - int(rng.uniform(0, 60)) * DAY
                else:
                    achieved = expiry + int(rng.uniform(1, 240)) * DAY
    who = np.array(who_l, dtype=np.int64)
    achieved = np.array(achieved_l, dtype="datetime64[D]")
    order = np.lexsort((np.array(skill_l, dtype=object).astype(str), who, achieved))
    m = len(who)
    return {
        "record_id": obj([f"{sid}-CR-{i + 1:07d}" for i in range(m)]),
        "staff_number": staff["staff_number"][who][order],
        "skill_code": obj(skill_l)[order],
        "achieved_date": achieved[order],
        "expiry_date": np.array(expiry_l, dtype="datetime64[D]")[order],
    }
