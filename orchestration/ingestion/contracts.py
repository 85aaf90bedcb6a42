"""Source-system contracts: the file layout, columns and row rules each landed extract must meet.

This module is the single source of truth shared by the simulator (which writes files that
meet it), the real-data adapters (which map public files onto it) and the ingestion engine
(which enforces it). Landing layout: ``landing/<system>/<service_id>/<stem>_<period>[_r<N>].<ext>``
where ``period`` is ``YYYY-MM`` for monthly deliveries, ``YYYY-MM-DD`` (the extract date) for
snapshots and ``FYYYYY-YY`` (e.g. ``FY2025-26``) for the Annual Plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["str", "int", "float", "date", "timestamp", "bool"]
Delivery = Literal["monthly", "snapshot", "financial_year"]
FileFormat = Literal["csv", "jsonl", "xlsx", "json"]

# Values accepted for booleans in source extracts (case-insensitive).
TRUE_VALUES = frozenset({"y", "yes", "true", "t", "1"})
FALSE_VALUES = frozenset({"n", "no", "false", "f", "0"})


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "str"
    required: bool = False
    # personal: dropped at ingestion, never written anywhere (staff names).
    personal: bool = False
    # pseudonymise: replaced by a keyed hash (HMAC-SHA256) before loading.
    pseudonymise: bool = False
    # allowed: a closed code list (checked case-insensitively, stored as given).
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class KnownCode:
    """Referential rule: ``column`` must exist in ``ref_entity.ref_column`` for the same service.

    Skipped for a service that has no reference rows at all (e.g. real LFB data has no wards).
    """

    column: str
    ref_entity: str
    ref_column: str


@dataclass(frozen=True)
class Entity:
    system: str
    entity: str
    stem: str  # file-name stem before the period, e.g. "incidents"
    format: FileFormat
    delivery: Delivery
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    sheet: str | None = None  # xlsx sheet name
    json_path: str | None = None  # json: "activities" or "activities[].status_updates"
    # Timestamps that must be non-decreasing in this order (mobilising).
    sequence: tuple[str, ...] = ()
    # (start column, end column, min seconds, max seconds) for an elapsed-time bound.
    elapsed_bounds: tuple[str, str, float, float] | None = None
    # Date/timestamp columns that may not lie in the future (after the load time, or after
    # the end of a monthly file's period).
    not_future: tuple[str, ...] = ()
    # Column whose month must equal a monthly file's period.
    period_column: str | None = None
    known_codes: tuple[KnownCode, ...] = ()

    @property
    def table(self) -> str:
        return f"{self.system}__{self.entity}"

    @property
    def extension(self) -> str:
        return "jsonl" if self.format == "jsonl" else self.format

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def loaded_columns(self) -> tuple[Column, ...]:
        """Columns that reach the warehouse (personal columns never do)."""
        return tuple(c for c in self.columns if not c.personal)


def C(name: str, type: ColumnType = "str", **kw) -> Column:  # noqa: N802 - terse table below
    return Column(name, type, **kw)


INCIDENT_CATEGORIES = ("primary_fire", "secondary_fire", "chimney_fire", "false_alarm", "special_service")
INCIDENT_TYPES = (
    # fires
    "fire",
    # false alarms
    "malicious",
    "good_intent",
    "apparatus",
    # special services
    "rtc",
    "flooding",
    "lift_release",
    "assist_other_agency",
    "animal_rescue",
    "medical",
    "effecting_entry",
    "hazmat",
    "water_rescue",
    "other_special_service",
)
PROPERTY_CATEGORIES = (
    "dwelling",
    "other_residential",
    "non_domestic",
    "vehicle",
    "outdoor",
    "outdoor_structure",
    "other",
)
MOTIVES = ("accidental", "deliberate", "not_known")
WATCHES = ("Red", "White", "Blue", "Green", "Day", "On-call")
DUTY_SYSTEMS = ("wholetime", "on_call", "day_crewed")
STAFF_GROUPS = ("wholetime", "on_call", "control", "support")
GENDERS = ("female", "male", "other", "not_stated")
ETHNICITIES = ("white", "mixed", "asian", "black", "other", "not_stated")
RISK_LEVELS = ("high", "medium", "low")
PLAN_STATUSES = ("not_started", "on_track", "at_risk", "off_track", "complete", "deferred")
ACTION_STATUSES = ("open", "in_progress", "complete", "closed", "overdue")

_STATION = KnownCode("station_id", "stations", "station_id")
_WARD = KnownCode("ward_code", "wards", "ward_code")

ENTITIES: tuple[Entity, ...] = (
    # ---------------------------------------------------------------- reference
    Entity(
        "reference",
        "stations",
        "stations",
        "csv",
        "snapshot",
        (
            C("station_id", required=True),
            C("station_name", required=True),
            C("group_id", required=True),
            C("group_name", required=True),
            C("duty_system", required=True, allowed=DUTY_SYSTEMS),
            C("watches"),  # ';'-separated watch names, e.g. "Red;White;Blue;Green;Day"
            C("lad_code"),
            C("easting", "float"),
            C("northing", "float"),
            C("valid_from", "date", required=True),
            C("valid_to", "date"),
        ),
        key=("station_id", "valid_from"),
    ),
    Entity(
        "reference",
        "wards",
        "wards",
        "csv",
        "snapshot",
        (
            C("ward_code", required=True),
            C("ward_name", required=True),
            C("lad_code", required=True),
            C("lad_name", required=True),
            C("station_id", required=True),  # station ground the ward belongs to
            C("population", "int", required=True, minimum=0),
            C("dwellings", "int", required=True, minimum=0),
            C("non_domestic_properties", "int", required=True, minimum=0),
            C("vintage_year", "int", required=True, minimum=1990, maximum=2100),
        ),
        key=("ward_code",),
    ),
    Entity(
        "reference",
        "appliances",
        "appliances",
        "csv",
        "snapshot",
        (
            C("appliance_id", required=True),
            C("station_id", required=True),
            C("appliance_type", required=True),
            C("duty_system", required=True, allowed=DUTY_SYSTEMS),
        ),
        key=("appliance_id",),
    ),
    # ---------------------------------------------------------------- irs
    Entity(
        "irs",
        "incidents",
        "incidents",
        "csv",
        "monthly",
        (
            C("incident_id", required=True),
            C("call_at", "timestamp", required=True),
            C("station_ground"),
            C("ward_code"),
            C("incident_category", required=True, allowed=INCIDENT_CATEGORIES),
            C("incident_type", required=True, allowed=INCIDENT_TYPES),
            C("property_category", required=True, allowed=PROPERTY_CATEGORIES),
            C("property_type"),
            C("motive", allowed=MOTIVES),
            C("is_confined_to_room", "bool"),
            C("is_late_call", "bool"),
            C("casualties_hospital_serious", "int", minimum=0, maximum=500),
            C("casualties_hospital_slight", "int", minimum=0, maximum=500),
            C("casualties_first_aid", "int", minimum=0, maximum=500),
            C("casualties_precautionary", "int", minimum=0, maximum=500),
            C("fatalities", "int", minimum=0, maximum=500),
            C("rescues", "int", minimum=0, maximum=500),
            C("appliances_attending", "int", minimum=0, maximum=100),
            # Only real LFB extracts carry this; simulated data derives it from mobilising.
            C("first_pump_attendance_seconds", "float"),
        ),
        key=("incident_id",),
        not_future=("call_at",),
        period_column="call_at",
        known_codes=(KnownCode("station_ground", "stations", "station_id"), _WARD),
    ),
    # ---------------------------------------------------------------- mobilising
    Entity(
        "mobilising",
        "mobilisations",
        "mobilisations",
        "jsonl",
        "monthly",
        (
            C("mobilisation_id", required=True),
            C("incident_id", required=True),
            C("appliance_id", required=True),
            C("station_id", required=True),
            C("call_received_at", "timestamp", required=True),
            C("mobilised_at", "timestamp", required=True),
            C("mobile_at", "timestamp"),
            C("in_attendance_at", "timestamp"),
            C("pump_order", "int", minimum=1, maximum=100),
        ),
        key=("mobilisation_id",),
        sequence=("call_received_at", "mobilised_at", "mobile_at", "in_attendance_at"),
        elapsed_bounds=("call_received_at", "in_attendance_at", 0, 3600),
        not_future=("call_received_at",),
        period_column="call_received_at",
        known_codes=(_STATION,),
    ),
    # ---------------------------------------------------------------- hr (one workbook, three sheets)
    Entity(
        "hr",
        "staff",
        "hr_extract",
        "xlsx",
        "snapshot",
        (
            C("staff_number", required=True, pseudonymise=True),
            C("first_name", personal=True),
            C("last_name", personal=True),
            C("staff_group", required=True, allowed=STAFF_GROUPS),
            C("role", required=True),
            C("is_operational", "bool", required=True),
            C("gender", required=True, allowed=GENDERS),
            C("ethnicity", required=True, allowed=ETHNICITIES),
            C("station_id"),
            C("watch", allowed=WATCHES),
            C("fte", "float", required=True, minimum=0, maximum=1.5),
            C("start_date", "date", required=True),
            C("leave_date", "date"),
        ),
        key=("staff_number",),
        sheet="Staff",
        not_future=("start_date",),
        known_codes=(_STATION,),
    ),
    Entity(
        "hr",
        "absences",
        "hr_extract",
        "xlsx",
        "snapshot",
        (
            C("absence_id", required=True),
            C("staff_number", required=True, pseudonymise=True),
            C("start_date", "date", required=True),
            C("end_date", "date"),
            C("shifts_lost", "float", required=True, minimum=0, maximum=400),
            C("reason_category", required=True),
        ),
        key=("absence_id",),
        sheet="Absence",
        not_future=("start_date",),
    ),
    Entity(
        "hr",
        "cases",
        "hr_extract",
        "xlsx",
        "snapshot",
        (
            C("case_id", required=True),
            C("staff_number", required=True, pseudonymise=True),
            C("case_type", required=True),
            C("opened_date", "date", required=True),
            C("closed_date", "date"),
        ),
        key=("case_id",),
        sheet="Cases",
        not_future=("opened_date",),
    ),
    # ---------------------------------------------------------------- competence
    Entity(
        "competence",
        "records",
        "competence",
        "csv",
        "snapshot",
        (
            C("record_id", required=True),
            C("staff_number", required=True, pseudonymise=True),
            C("skill_code", required=True),
            C("achieved_date", "date", required=True),
            C("expiry_date", "date", required=True),
        ),
        key=("record_id",),
        not_future=("achieved_date",),
    ),
    # ---------------------------------------------------------------- prevention
    Entity(
        "prevention",
        "home_fire_safety_visits",
        "hfsv",
        "csv",
        "monthly",
        (
            C("visit_id", required=True),
            C("visit_date", "date", required=True),
            C("station_id", required=True),
            C("watch", allowed=WATCHES),
            C("ward_code", required=True),
            C("household_risk", required=True, allowed=RISK_LEVELS),
            C("visit_type", required=True),
            C("referral_source"),
        ),
        key=("visit_id",),
        not_future=("visit_date",),
        period_column="visit_date",
        known_codes=(_STATION, _WARD),
    ),
    # ---------------------------------------------------------------- protection
    Entity(
        "protection",
        "fire_safety_audits",
        "audits",
        "csv",
        "monthly",
        (
            C("audit_id", required=True),
            C("audit_date", "date", required=True),
            C("station_id", required=True),
            C("watch", allowed=WATCHES),
            C("ward_code"),
            C("premises_id", required=True),
            C("premises_type", required=True),
            C("risk_band", required=True, allowed=("very_high", "high", "medium", "low")),
            C("is_rbip", "bool", required=True),
            C("outcome", required=True, allowed=("satisfactory", "unsatisfactory")),
        ),
        key=("audit_id",),
        not_future=("audit_date",),
        period_column="audit_date",
        known_codes=(_STATION,),
    ),
    # ---------------------------------------------------------------- availability
    Entity(
        "availability",
        "oncall_availability",
        "oncall_availability",
        "csv",
        "monthly",
        (
            C("station_id", required=True),
            C("appliance_id", required=True),
            C("availability_date", "date", required=True),
            C("hours_available", "float", required=True, minimum=0, maximum=24),
        ),
        key=("appliance_id", "availability_date"),
        not_future=("availability_date",),
        period_column="availability_date",
        known_codes=(_STATION,),
    ),
    # ---------------------------------------------------------------- safeguarding
    Entity(
        "safeguarding",
        "referrals",
        "referrals",
        "csv",
        "monthly",
        (
            C("referral_id", required=True),
            C("referral_date", "date", required=True),
            C("direction", required=True, allowed=("made", "received")),
            C("station_id", required=True),
            C("partner_agency", required=True),
            C("subject_group", required=True, allowed=("adult", "child")),
            C("concern_type", required=True),
        ),
        key=("referral_id",),
        not_future=("referral_date",),
        period_column="referral_date",
        known_codes=(_STATION,),
    ),
    # ---------------------------------------------------------------- planner
    Entity(
        "planner",
        "activities",
        "annual_plan",
        "json",
        "financial_year",
        (
            C("activity_id", required=True),
            C("financial_year", required=True),
            C("title", required=True),
            C("labels"),  # ';'-separated, e.g. "HMICFRS AI;IRMP"
            C("priority_id", "int", required=True, minimum=1, maximum=20),
            C("directorate", required=True),
            C("owner_role", required=True),
            C("definition_of_done", required=True),
            C("objective"),
            C("is_rolled_over", "bool"),
            C("due_date", "date"),
        ),
        key=("activity_id", "financial_year"),
        json_path="activities",
    ),
    Entity(
        "planner",
        "activity_updates",
        "annual_plan",
        "json",
        "financial_year",
        (
            C("activity_id", required=True),
            C("financial_year", required=True),
            C("quarter", required=True, allowed=("Q1", "Q2", "Q3", "Q4")),
            C("status", required=True, allowed=PLAN_STATUSES),
            C("commentary"),
            C("updated_date", "date", required=True),
        ),
        key=("activity_id", "financial_year", "quarter"),
        json_path="activities[].status_updates",
        not_future=("updated_date",),
    ),
    Entity(
        "planner",
        "deep_dive_actions",
        "deep_dive_action_log",
        "xlsx",
        "snapshot",
        (
            C("action_number", required=True),
            C("deep_dive", required=True),
            C("area_for_review", required=True),
            C("contact_name", personal=True),
            C("contact_role", required=True),
            C("update_due", "date"),
            C("notes"),
            C("status", required=True, allowed=ACTION_STATUSES),
        ),
        key=("action_number",),
        sheet="Action log",
    ),
)

SYSTEMS: tuple[str, ...] = (
    "irs",
    "mobilising",
    "hr",
    "competence",
    "prevention",
    "protection",
    "availability",
    "safeguarding",
    "planner",
    "reference",
)

# Real public data adapters land in their own raw tables (names in real_data.py) except LFB
# incidents and mobilisations, which use the irs / mobilising contracts with service_id 'LFB'.

LINEAGE_COLUMNS = ("_source_file", "_source_row", "_file_sha256", "_batch_id", "_loaded_at")


def entity(table: str) -> Entity:
    """Look up an entity by raw table name, e.g. ``irs__incidents``."""
    for e in ENTITIES:
        if e.table == table:
            return e
    raise KeyError(f"no contract for raw table {table!r}")


def entities_for(system: str) -> tuple[Entity, ...]:
    return tuple(e for e in ENTITIES if e.system == system)


@dataclass(frozen=True)
class FaultClass:
    name: str
    level: Literal["record", "file"]
    description: str


# The simulator's fault manifest uses exactly these names.
FAULT_CLASSES: tuple[FaultClass, ...] = (
    FaultClass("duplicate", "record", "the same record delivered twice in one file"),
    FaultClass("missing_mandatory", "record", "a required field is empty"),
    FaultClass(
        "out_of_sequence", "record", "mobilising timestamps not in call → mobilised → mobile → attendance order"
    ),
    FaultClass("bad_response_time", "record", "total response time negative or over one hour"),
    FaultClass("future_date", "record", "a date after the extract was produced"),
    FaultClass("unknown_code", "record", "a station or ward code not in the reference data"),
    FaultClass("text_in_numeric", "record", "text in a numeric field"),
    FaultClass("malformed_row", "record", "a CSV row with the wrong number of fields"),
    FaultClass("encoding_cp1252", "file", "a file encoded in Windows-1252 rather than UTF-8"),
    FaultClass("schema_drift", "file", "a file whose columns were renamed or dropped"),
    FaultClass("redelivery", "file", "a late correction file that re-delivers a month"),
)
FAULT_CLASS_NAMES = tuple(f.name for f in FAULT_CLASSES)


@dataclass
class ManifestEntry:
    """One line of the simulator's ground-truth fault manifest."""

    system: str
    file: str  # path relative to the landing directory
    fault_class: str
    record_key: str | None = None  # key values joined by '|'; None for file-level faults
    row: int | None = None  # physical line (CSV/JSONL) or sheet row (XLSX), header = 1 for CSV/XLSX
    detail: str = ""
    extra: dict = field(default_factory=dict)
