"""The Annual Plan (one JSON document per financial year, with quarterly status updates and
rolled-over activities) and the deep-dive action log.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from orchestration.simulator import catalogue as cat
from orchestration.simulator.config import Period, fy_label
from orchestration.simulator.frames import Frame, obj

# (priority, title, directorate, owner role, objective, definition of done)
TEMPLATES: tuple[tuple[int, str, str, str, str, str], ...] = (
    (
        1,
        "Refresh the community risk management plan evidence base",
        "Strategy",
        "Area Manager, Strategy",
        "Target resources at the greatest risks",
        "Risk profile approved by the Authority",
    ),
    (
        1,
        "Deliver the risk-based inspection programme",
        "Protection",
        "Group Manager, Protection",
        "Keep people safe in the buildings they use",
        "All very high and high risk premises audited",
    ),
    (
        1,
        "Review the emergency response standard",
        "Response",
        "Area Manager, Response",
        "Reach emergencies quickly",
        "Revised standard adopted and reported monthly",
    ),
    (
        1,
        "Introduce a targeted accidental dwelling fire reduction campaign",
        "Prevention",
        "Group Manager, Prevention",
        "Fewer fires in the home",
        "Campaign evaluated against ADF trend",
    ),
    (
        1,
        "Implement building safety regulator referral process",
        "Protection",
        "Station Manager, Protection",
        "Meet Building Safety Act duties",
        "Process live and audited",
    ),
    (
        1,
        "Improve operational learning from incidents",
        "Response",
        "Group Manager, Operational Assurance",
        "Learn from every incident",
        "Learning log reviewed quarterly by SLT",
    ),
    (
        2,
        "Deliver road safety education to young drivers",
        "Prevention",
        "Road Safety Manager",
        "Fewer people killed or seriously injured on our roads",
        "Sessions delivered to all sixth forms",
    ),
    (
        2,
        "Co-ordinate casualty reduction with the safer roads partnership",
        "Prevention",
        "Group Manager, Prevention",
        "Safer roads",
        "Joint action plan signed off",
    ),
    (
        2,
        "Replace road traffic collision rescue equipment",
        "Response",
        "Station Manager, Fleet and Equipment",
        "Crews have modern rescue equipment",
        "All pumps equipped and crews trained",
    ),
    (
        3,
        "Expand Safe and Well visits to high-risk households",
        "Prevention",
        "Group Manager, Prevention",
        "Help the vulnerable stay safe",
        "Visit target met with 60% high risk",
    ),
    (
        3,
        "Embed the safeguarding referral pathway",
        "Prevention",
        "Safeguarding Lead",
        "Protect adults and children at risk",
        "All referrals logged within 24 hours",
    ),
    (
        3,
        "Develop a hoarding intervention protocol with partners",
        "Prevention",
        "Community Safety Manager",
        "Reduce fire risk from hoarding",
        "Protocol agreed with councils",
    ),
    (
        4,
        "Act on the cultural review recommendations",
        "People Services",
        "Director of People Services",
        "A positive culture in the workplace",
        "All recommendations closed and evidenced",
    ),
    (
        4,
        "Improve the diversity of firefighter recruitment",
        "People Services",
        "Head of Recruitment",
        "A workforce that reflects our communities",
        "Positive action plan delivered",
    ),
    (
        4,
        "Reduce sickness absence through wellbeing support",
        "People Services",
        "Head of Occupational Health",
        "A healthy workforce",
        "Shifts lost per FTE below target",
    ),
    (
        4,
        "Embed the Core Code of Ethics in appraisals",
        "People Services",
        "Head of Organisational Development",
        "Values lived every day",
        "Code referenced in all appraisals",
    ),
    (
        4,
        "Introduce leadership development for supervisory managers",
        "People Services",
        "Learning and Development Manager",
        "Confident leaders",
        "Programme delivered to all crew managers",
    ),
    (
        5,
        "Extend co-responding to medical emergencies",
        "Response",
        "Group Manager, Response",
        "Broaden the role of firefighters",
        "Pilot evaluated and decision taken",
    ),
    (
        5,
        "Develop water rescue capability",
        "Response",
        "Station Manager, Special Operations",
        "Ready for flooding and water incidents",
        "Teams trained and declared",
    ),
    (
        5,
        "Deliver the on-call improvement programme",
        "Response",
        "Area Manager, On-call",
        "Reliable on-call cover",
        "Availability above target at all stations",
    ),
    (
        6,
        "Publish performance data monthly",
        "Strategy",
        "Head of Performance and Data",
        "Be transparent and accountable",
        "Monthly dashboard published",
    ),
    (
        6,
        "Improve complaint handling",
        "Corporate Services",
        "Head of Corporate Services",
        "Be open and accessible",
        "Complaints answered within 20 working days",
    ),
    (
        6,
        "Improve data quality in the incident recording system",
        "Strategy",
        "Head of Performance and Data",
        "Trusted data",
        "Data accuracy above 98%",
    ),
    (
        7,
        "Share estates with police and ambulance partners",
        "Corporate Services",
        "Head of Estates",
        "Collaborate with our partners",
        "Two shared stations open",
    ),
    (
        7,
        "Joint control room procedures with neighbouring services",
        "Control",
        "Group Manager, Control",
        "Resilient emergency call handling",
        "Buddy arrangements tested",
    ),
    (
        7,
        "Joint training with the ambulance service",
        "Response",
        "Station Manager, Training",
        "Better joint working at incidents",
        "Joint exercises held each quarter",
    ),
    (
        8,
        "Deliver the efficiency and productivity plan",
        "Finance",
        "Director of Finance",
        "Make best use of our resources",
        "Savings delivered and reported",
    ),
    (
        8,
        "Replace the mobilising system",
        "Control",
        "Head of ICT",
        "Modern resilient mobilising",
        "New system live with no loss of service",
    ),
    (
        8,
        "Improve wholetime productivity",
        "Response",
        "Area Manager, Response",
        "Make best use of crew time",
        "Watch targets met 85% of months",
    ),
    (
        8,
        "Modernise the fleet replacement programme",
        "Corporate Services",
        "Head of Fleet",
        "Best value fleet",
        "Programme approved and on budget",
    ),
    (
        8,
        "Introduce a new HR and payroll system",
        "People Services",
        "Head of ICT",
        "Efficient back office",
        "System live and legacy retired",
    ),
    (
        8,
        "Review station locations against risk",
        "Strategy",
        "Area Manager, Strategy",
        "Resources where the risk is",
        "Options appraisal reported to the Authority",
    ),
)
LABELS = (
    "HMICFRS AI",
    "CRMP",
    "Fire Standards",
    "Core Code of Ethics",
    "Efficiency",
    "Collaboration",
)
LABEL_P = (0.28, 0.3, 0.15, 0.1, 0.15, 0.1)
COMMENTARY = {
    "not_started": ("Planned to start next quarter.", "Awaiting resource allocation."),
    "on_track": (
        "Progressing to plan; milestones for the quarter met.",
        "On track; no issues to report.",
    ),
    "at_risk": (
        "Delivery at risk: resourcing pressures.",
        "Supplier delay puts the milestone at risk.",
    ),
    "off_track": (
        "Behind plan; recovery actions agreed at SLT.",
        "Off track: dependency not delivered.",
    ),
    "complete": (
        "Definition of done met and evidence filed.",
        "Complete; benefits now being tracked.",
    ),
    "deferred": ("Deferred by SLT to the next financial year.", "Paused pending budget decision."),
}
# Quarter-to-quarter status transitions.
TRANSITIONS = {
    "not_started": {"not_started": 0.25, "on_track": 0.6, "at_risk": 0.15},
    "on_track": {"on_track": 0.68, "complete": 0.2, "at_risk": 0.12},
    "at_risk": {"on_track": 0.4, "at_risk": 0.35, "off_track": 0.2, "deferred": 0.05},
    "off_track": {"at_risk": 0.4, "off_track": 0.4, "deferred": 0.2},
    "complete": {"complete": 1.0},
    "deferred": {"deferred": 1.0},
}
FIRST_STATUS = {"not_started": 0.15, "on_track": 0.7, "at_risk": 0.12, "off_track": 0.03}


def _choose(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _quarter_ends(fy: int) -> list[dt.date]:
    return [dt.date(fy, 6, 30), dt.date(fy, 9, 30), dt.date(fy, 12, 31), dt.date(fy + 1, 3, 31)]


def generate_plans(service_id: str, period: Period, rng: np.random.Generator) -> dict[int, dict]:
    """{financial year start: Annual Plan document}."""
    plans: dict[int, dict] = {}
    carried: list[dict] = []
    for fy in period.financial_years:
        q_ends = _quarter_ends(fy)
        n_new = int(rng.integers(22, 31))
        chosen = rng.choice(len(TEMPLATES), size=min(n_new, len(TEMPLATES)), replace=False)
        activities: list[dict] = []
        for prev in carried:
            activities.append({**prev, "is_rolled_over": True, "_status": prev["_status"]})
        for k, t in enumerate(sorted(chosen.tolist()), start=1):
            pr, title, directorate, owner, objective, done = TEMPLATES[t]
            labels = [lab for lab, p in zip(LABELS, LABEL_P, strict=True) if rng.random() < p]
            activities.append(
                {
                    "activity_id": f"AP{fy}{k:03d}",
                    "title": title,
                    "labels": labels,
                    "priority_id": pr,
                    "directorate": directorate,
                    "owner_role": owner,
                    "definition_of_done": done,
                    "objective": objective,
                    "is_rolled_over": False,
                    "_status": None,
                }
            )
        carried = []
        docs = []
        for a in activities:
            q_due = int(rng.choice(4, p=[0.05, 0.2, 0.25, 0.5]))
            updates = []
            status = a["_status"]
            for q, end in enumerate(q_ends):
                if end >= period.as_of:
                    break
                if status is None:
                    status = _choose(rng, FIRST_STATUS)
                else:
                    status = _choose(rng, TRANSITIONS[status])
                    if q == 3 and status == "on_track" and rng.random() < 0.75:
                        status = "complete"
                updated = min(end + dt.timedelta(days=int(rng.integers(5, 21))), period.end)
                updates.append(
                    {
                        "quarter": f"Q{q + 1}",
                        "status": status,
                        "commentary": COMMENTARY[status][int(rng.integers(2))],
                        "updated_date": updated.isoformat(),
                    }
                )
            doc = {k: v for k, v in a.items() if not k.startswith("_")}
            doc["due_date"] = q_ends[q_due].isoformat()
            doc["status_updates"] = updates
            docs.append(doc)
            finished_year = len(updates) == 4
            if finished_year and status not in ("complete",) and rng.random() < 0.7:
                # Unfinished work rolls into next year's plan under the same activity ID.
                carried.append(
                    {
                        **{k: v for k, v in a.items()},
                        "_status": "on_track" if status == "deferred" else status,
                    }
                )
        plans[fy] = {"service_id": service_id, "financial_year": fy_label(fy), "activities": docs}
    return plans


DEEP_DIVES = (
    (
        "On-call availability",
        (
            "Recruitment to on-call stations",
            "Primary employer engagement",
            "Crewing flexibility",
            "Pay for availability",
        ),
    ),
    (
        "Accidental dwelling fires",
        (
            "Targeting of Safe and Well visits",
            "Cooking fire campaign",
            "Post-incident follow-up",
            "Partner referrals",
        ),
    ),
    (
        "Sickness absence",
        (
            "Return-to-work interviews",
            "Mental health support",
            "Musculoskeletal referrals",
            "Manager training",
        ),
    ),
    (
        "Response times in rural areas",
        ("Drive-time modelling", "Turnout times on-call", "Call handling review", "Standby moves"),
    ),
    (
        "Automatic fire alarm demand",
        (
            "Call challenge in control",
            "Engagement with repeat premises",
            "Charging policy",
            "Attendance policy",
        ),
    ),
    (
        "Protection backlog",
        (
            "Inspector recruitment",
            "High-rise audits",
            "Enforcement follow-up",
            "Data quality of premises list",
        ),
    ),
    (
        "Data quality",
        (
            "IRS completion times",
            "Mobilising timestamp gaps",
            "HR system reconciliation",
            "Station code changes",
        ),
    ),
    (
        "Grassland fires",
        (
            "Wildfire tactics",
            "Summer resilience",
            "Partner land management",
            "Deliberate fire reduction",
        ),
    ),
)
CONTACT_ROLES = (
    "Group Manager, Prevention",
    "Group Manager, Response",
    "Head of Performance and Data",
    "Station Manager, Protection",
    "Head of Occupational Health",
    "Area Manager, On-call",
    "Group Manager, Control",
)


def generate_deep_dives(period: Period, rng: np.random.Generator) -> Frame:
    cols: dict[str, list] = {
        k: []
        for k in (
            "action_number",
            "deep_dive",
            "area_for_review",
            "contact_name",
            "contact_role",
            "update_due",
            "notes",
            "status",
        )
    }
    held = np.datetime64(period.start, "D") + 60
    end = np.datetime64(period.end, "D")
    n = 0
    while held <= end:
        n += 1
        topic, areas = DEEP_DIVES[(n - 1) % len(DEEP_DIVES)]
        for k in range(int(rng.integers(3, 7))):
            due = held + int(rng.integers(30, 181))
            if due < end:
                status = _choose(
                    rng, {"closed": 0.45, "complete": 0.3, "overdue": 0.15, "in_progress": 0.1}
                )
            else:
                status = _choose(rng, {"open": 0.4, "in_progress": 0.6})
            gender_f = rng.random() < 0.4
            firsts = cat.FIRST_NAMES_F if gender_f else cat.FIRST_NAMES_M
            cols["action_number"].append(f"DD{n:02d}.{k + 1}")
            cols["deep_dive"].append(f"{topic} ({str(held)[:7]})")
            cols["area_for_review"].append(areas[k % len(areas)])
            first = firsts[int(rng.integers(len(firsts)))]
            last = cat.LAST_NAMES[int(rng.integers(len(cat.LAST_NAMES)))]
            cols["contact_name"].append(f"{first} {last}")
            cols["contact_role"].append(CONTACT_ROLES[int(rng.integers(len(CONTACT_ROLES)))])
            cols["update_due"].append(due)
            cols["notes"].append(
                {
                    "closed": "Action closed at performance board.",
                    "complete": "Evidence received; awaiting closure.",
                    "overdue": "Update not received by due date.",
                    "in_progress": "Work under way.",
                    "open": "Action agreed at deep dive.",
                }[status]
            )
            cols["status"].append(status)
        held = held + int(rng.integers(150, 210))
    return {
        k: (np.array(v, dtype="datetime64[D]") if k == "update_due" else obj(v))
        for k, v in cols.items()
    }
