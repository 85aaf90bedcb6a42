"""Two baselines for ``marts.rpt_kpi_monthly``: what the pipeline is measured against.

Each computes, for three representative KPIs, numerator, denominator and value for every
organisation unit at every level (station, group, service) and every reporting month:

- ``INC_TOTAL``         a count: incidents attended, by the incident's station ground;
- ``PRI_FIRES_10K``     a ratio with a population denominator: primary fires per 10,000 residents
                        of the station's wards (``reference__wards``);
- ``RESP_STD_MET_PCT``  a response-time percentage: valid responses to potentially
                        life-threatening incidents (primary fires, RTCs) where the first appliance
                        arrived within the service's standard (``seeds.response_standards``), × 100.

Inputs (the same the pipeline used): the ``raw_current`` views of the warehouse — the latest
delivery of every month, exactly what the dbt staging views select from — for
``irs__incidents``, ``mobilising__mobilisations``, ``reference__stations`` and
``reference__wards``, plus the ``seeds.response_standards`` seed table. Everything between
(code cleaning, first appliance, Home Office exclusions, the station/month spine, the
organisation hierarchy as it was each month, the roll-up by adding numerators and
denominators) is re-implemented here, once as one hand-written DuckDB SQL script (the lower
bound) and once in plain pandas (what a performance analyst would write). ``compare`` checks
both against the mart within 1e-9.

The month range follows the pipeline: from the first month any station is valid (and not
before April 2008, where ``dim_date`` starts) to the month before ``as_of``, and only the
months in which a service has incidents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

KPIS = ("INC_TOTAL", "PRI_FIRES_10K", "RESP_STD_MET_PCT")
KEY = ["kpi_code", "org_unit_id", "org_level", "period_month"]
COLUMNS = [*KEY, "numerator", "denominator", "value"]
DIM_DATE_FIRST_MONTH = dt.date(2008, 4, 1)
DIM_DATE_LAST_MONTH = dt.date(2031, 3, 1)

# One script, no intermediate tables: DuckDB plans it as a whole. ``$as_of`` is the reporting
# cut-off (the first month not reported).
DUCKDB_SQL = """
with
incidents as (
    select
        service_id || '-' || incident_id as incident_sk,
        service_id,
        service_id || '-' || station_ground as station_sk,
        cast(date_trunc('month', call_at) as date) as period_month,
        lower(trim(incident_category)) as incident_category,
        lower(trim(incident_type)) as incident_type,
        coalesce(is_late_call, false) as is_late_call,
        coalesce(lower(property_type) like '%abandoned%', false)
            or coalesce(lower(property_type) like '%derelict%', false) as is_excluded_property,
        first_pump_attendance_seconds
    from raw_current.irs__incidents
),
first_appliance as (
    select
        service_id || '-' || incident_id as incident_sk,
        call_received_at, mobilised_at, mobile_at, in_attendance_at,
        epoch(in_attendance_at) - epoch(call_received_at) as total_response_seconds
    from raw_current.mobilising__mobilisations
    qualify row_number() over (
        partition by service_id || '-' || incident_id
        order by in_attendance_at nulls last, pump_order nulls last, service_id || '-' || mobilisation_id
    ) = 1
),
responses as (
    select
        i.station_sk,
        i.period_month,
        coalesce(f.total_response_seconds, i.first_pump_attendance_seconds) as response_seconds,
        i.incident_category = 'primary_fire'
            or (i.incident_category = 'special_service' and i.incident_type = 'rtc') as is_life_threatening,
        not i.is_late_call and not i.is_excluded_property
            and coalesce(f.total_response_seconds, i.first_pump_attendance_seconds) between 60 and 3600
            and not coalesce(f.mobilised_at < f.call_received_at or f.mobile_at < f.mobilised_at
                             or f.in_attendance_at < coalesce(f.mobile_at, f.mobilised_at), false)
            as is_valid,
        s.standard_seconds
    from incidents i
    left join first_appliance f on i.incident_sk = f.incident_sk
    left join seeds.response_standards s on i.service_id = s.service_id
),
incident_counts as (
    select station_sk, period_month, count(*) as incidents,
           count(*) filter (where incident_category = 'primary_fire') as primary_fires
    from incidents group by all
),
response_counts as (
    select station_sk, period_month,
           count(*) filter (where is_life_threatening and response_seconds <= standard_seconds) as within_standard,
           count(*) filter (where is_life_threatening) as life_threatening_valid
    from responses where is_valid group by all
),
stations as (
    select service_id, service_id || '-' || station_id as station_sk,
           service_id || '-' || group_id as group_unit_id, valid_from, valid_to
    from raw_current.reference__stations
),
months as (
    select cast(range as date) as period_month
    from range(date '2008-04-01', date '2031-04-01', interval 1 month)
    where range < $as_of
      and range >= (select date_trunc('month', min(valid_from)) from raw_current.reference__stations)
),
station_months as (
    select m.period_month, s.station_sk, s.group_unit_id, s.service_id
    from months m join stations s
      on s.valid_from <= m.period_month and (s.valid_to is null or s.valid_to > m.period_month)
),
population as (
    select service_id || '-' || station_id as station_sk, sum(population) as population
    from raw_current.reference__wards group by 1
),
service_months as (select distinct service_id, period_month from incidents),
spine as (
    select distinct sm.station_sk, sm.service_id, sm.period_month
    from station_months sm
    join service_months using (service_id, period_month)
),
observations as (
    select sp.station_sk, sp.period_month,
           cast(coalesce(ic.incidents, 0) as double) as inc_num,
           cast(coalesce(ic.primary_fires, 0) as double) as pri_num,
           cast(p.population as double) as pri_den,
           cast(coalesce(rc.within_standard, 0) as double) as resp_num,
           cast(coalesce(rc.life_threatening_valid, 0) as double) as resp_den
    from spine sp
    left join incident_counts ic using (station_sk, period_month)
    left join response_counts rc using (station_sk, period_month)
    left join population p using (station_sk)
),
ancestry as (
    select period_month, station_sk, service_id, station_sk as unit, 'station' as org_level from station_months
    union all select period_month, station_sk, service_id, group_unit_id, 'group' from station_months
    union all select period_month, station_sk, service_id, service_id, 'service' from station_months
),
rolled as (
    select a.unit as org_unit_id, a.org_level, o.period_month,
           sum(o.inc_num) as inc_num, sum(o.pri_num) as pri_num, sum(o.pri_den) as pri_den,
           sum(o.resp_num) as resp_num, sum(o.resp_den) as resp_den
    from observations o
    join ancestry a using (station_sk, period_month)
    group by all
),
grid as (
    select distinct a.unit as org_unit_id, a.org_level, a.period_month
    from ancestry a
    join (select distinct service_id, period_month from spine) r using (service_id, period_month)
),
filled as (
    select g.org_unit_id, g.org_level, g.period_month,
           coalesce(r.inc_num, 0) as inc_num, coalesce(r.pri_num, 0) as pri_num, r.pri_den,
           coalesce(r.resp_num, 0) as resp_num, r.resp_den
    from grid g left join rolled r using (org_unit_id, org_level, period_month)
)
select 'INC_TOTAL' as kpi_code, org_unit_id, org_level, period_month,
       inc_num as numerator, cast(null as double) as denominator, inc_num as value
from filled
union all
select 'PRI_FIRES_10K', org_unit_id, org_level, period_month, pri_num, pri_den,
       pri_num / nullif(pri_den, 0) * 10000
from filled
union all
select 'RESP_STD_MET_PCT', org_unit_id, org_level, period_month, resp_num, resp_den,
       resp_num / nullif(resp_den, 0) * 100
from filled
"""


def duckdb_sql(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """The lower bound: one hand-written DuckDB SQL script over the warehouse's raw_current views."""
    return con.execute(DUCKDB_SQL, {"as_of": as_of}).df()


# ------------------------------------------------------------------------------------------ pandas
def _clean_code(s: pd.Series) -> pd.Series:
    return s.str.strip(" ").str.lower()


def _month(ts: pd.Series) -> pd.Series:
    return ts.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")


def pandas_baseline(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """Plain pandas: read the four raw_current inputs and the seed as DataFrames (plain
    ``select`` of the columns needed, no SQL logic), then merge, group and divide."""
    inc = con.execute(
        "select service_id, incident_id, station_ground, call_at, incident_category, incident_type, "
        "property_type, is_late_call, first_pump_attendance_seconds from raw_current.irs__incidents"
    ).df()
    mob = con.execute(
        "select service_id, incident_id, mobilisation_id, pump_order, call_received_at, mobilised_at, "
        "mobile_at, in_attendance_at from raw_current.mobilising__mobilisations"
    ).df()
    stations = con.execute(
        "select service_id, station_id, group_id, valid_from, valid_to from raw_current.reference__stations"
    ).df()
    wards = con.execute("select service_id, station_id, population from raw_current.reference__wards").df()
    standards = con.execute("select service_id, standard_seconds from seeds.response_standards").df()

    # Incidents: keys, month, cleaned codes, exclusion flags.
    inc["incident_sk"] = inc["service_id"] + "-" + inc["incident_id"]
    inc["station_sk"] = inc["service_id"] + "-" + inc["station_ground"]
    inc["period_month"] = _month(inc["call_at"])
    category = _clean_code(inc["incident_category"])
    itype = _clean_code(inc["incident_type"])
    ptype = inc["property_type"].str.lower()
    inc["is_primary_fire"] = (category == "primary_fire").fillna(False).astype(bool)
    inc["is_life_threatening"] = inc["is_primary_fire"] | ((category == "special_service") & (itype == "rtc")).fillna(
        False
    ).astype(bool)
    excluded = (
        inc["is_late_call"].fillna(False).astype(bool)
        | ptype.str.contains("abandoned", regex=False).fillna(False).astype(bool)
        | ptype.str.contains("derelict", regex=False).fillna(False).astype(bool)
    )

    # First appliance to arrive per incident.
    mob["incident_sk"] = mob["service_id"] + "-" + mob["incident_id"]
    mob["mobilisation_sk"] = mob["service_id"] + "-" + mob["mobilisation_id"]
    first = mob.sort_values(
        ["incident_sk", "in_attendance_at", "pump_order", "mobilisation_sk"], na_position="last", kind="stable"
    ).drop_duplicates("incident_sk")
    first = first[first["incident_sk"].notna()]
    first = first.assign(
        total_response_seconds=(first["in_attendance_at"] - first["call_received_at"]).dt.total_seconds(),
        out_of_sequence=(first["mobilised_at"] < first["call_received_at"])
        | (first["mobile_at"] < first["mobilised_at"])
        | (first["in_attendance_at"] < first["mobile_at"].fillna(first["mobilised_at"])),
    )[["incident_sk", "total_response_seconds", "out_of_sequence"]]
    resp = inc.merge(first, on="incident_sk", how="left")
    resp = resp.merge(standards, on="service_id", how="left")
    seconds = resp["total_response_seconds"].fillna(resp["first_pump_attendance_seconds"])
    valid = (
        ~excluded.to_numpy()
        & seconds.between(60, 3600).to_numpy()
        & ~resp["out_of_sequence"].fillna(False).astype(bool).to_numpy()
    )
    lt = resp["is_life_threatening"].to_numpy() & valid
    resp["resp_den"] = lt.astype(float)
    resp["resp_num"] = (lt & (seconds <= resp["standard_seconds"]).fillna(False).to_numpy()).astype(float)
    inc["inc_num"] = 1.0
    inc["pri_num"] = inc["is_primary_fire"].astype(float)
    counts = (
        inc.assign(resp_num=resp["resp_num"].to_numpy(), resp_den=resp["resp_den"].to_numpy())
        .groupby(["station_sk", "period_month"])[["inc_num", "pri_num", "resp_num", "resp_den"]]
        .sum()
        .reset_index()
    )

    # The organisation as it was each month: station versions valid on the first of the month.
    first_month = max(
        pd.Timestamp(stations["valid_from"].min()).to_period("M").to_timestamp(), pd.Timestamp(DIM_DATE_FIRST_MONTH)
    )
    months = pd.date_range(first_month, pd.Timestamp(DIM_DATE_LAST_MONTH), freq="MS")
    months = pd.DataFrame({"period_month": months[months < pd.Timestamp(as_of)].astype("datetime64[ns]")})
    stations["station_sk"] = stations["service_id"] + "-" + stations["station_id"]
    stations["group_unit_id"] = stations["service_id"] + "-" + stations["group_id"]
    stations["valid_from"] = pd.to_datetime(stations["valid_from"])
    stations["valid_to"] = pd.to_datetime(stations["valid_to"])
    sm = months.merge(stations, how="cross")
    sm = sm[(sm["valid_from"] <= sm["period_month"]) & (sm["valid_to"].isna() | (sm["valid_to"] > sm["period_month"]))]
    sm = sm[["period_month", "station_sk", "group_unit_id", "service_id"]]

    # Spine: every station-month in a month its service has incidents, with its population.
    service_months = inc[["service_id", "period_month"]].dropna().drop_duplicates()
    spine = (
        sm[["station_sk", "service_id", "period_month"]]
        .drop_duplicates()
        .merge(service_months, on=["service_id", "period_month"])
    )
    wards["station_sk"] = wards["service_id"] + "-" + wards["station_id"]
    population = wards.groupby("station_sk")["population"].sum(min_count=1).astype(float).rename("pri_den")
    obs = spine.merge(counts, on=["station_sk", "period_month"], how="left").merge(
        population, left_on="station_sk", right_index=True, how="left"
    )
    obs[["inc_num", "pri_num", "resp_num", "resp_den"]] = obs[["inc_num", "pri_num", "resp_num", "resp_den"]].fillna(
        0.0
    )

    # Roll up to station, group and service by adding numerators and denominators.
    ancestry = pd.concat(
        [
            sm.assign(org_unit_id=sm["station_sk"], org_level="station"),
            sm.assign(org_unit_id=sm["group_unit_id"], org_level="group"),
            sm.assign(org_unit_id=sm["service_id"], org_level="service"),
        ]
    )[["period_month", "station_sk", "service_id", "org_unit_id", "org_level"]]
    keys = ["org_unit_id", "org_level", "period_month"]
    rolled = (
        obs.drop(columns="service_id")
        .merge(ancestry, on=["station_sk", "period_month"])
        .groupby(keys)[["inc_num", "pri_num", "pri_den", "resp_num", "resp_den"]]
        .sum(min_count=1)
        .reset_index()
    )
    # Every unit that exists in a month its service reports, even with nothing to add up.
    reported = spine[["service_id", "period_month"]].drop_duplicates()
    grid = ancestry.merge(reported, on=["service_id", "period_month"])[keys].drop_duplicates()
    filled = grid.merge(rolled, on=keys, how="left")
    for col in ("inc_num", "pri_num", "resp_num"):
        filled[col] = filled[col].fillna(0.0)

    def kpi(code: str, num: str, den: str | None, multiplier: float | None) -> pd.DataFrame:
        out = filled[keys].copy()
        out.insert(0, "kpi_code", code)
        out["numerator"] = filled[num]
        out["denominator"] = filled[den] if den else np.nan
        out["value"] = (
            out["numerator"]
            if multiplier is None
            else out["numerator"] / out["denominator"].replace(0.0, np.nan) * multiplier
        )
        return out

    return pd.concat(
        [
            kpi("INC_TOTAL", "inc_num", None, None),
            kpi("PRI_FIRES_10K", "pri_num", "pri_den", 10000.0),
            kpi("RESP_STD_MET_PCT", "resp_num", "resp_den", 100.0),
        ],
        ignore_index=True,
    )


BASELINES = {"duckdb_sql": duckdb_sql, "pandas": pandas_baseline}


# --------------------------------------------------------------------------------------- compare
# The baselines recompute the organisation hierarchy; the district and ward rows (the geography
# hierarchy, tests/dbt/test_geography.py) are not theirs to compare.
MART_SQL = (
    "select kpi_code, org_unit_id, org_level, period_month, numerator, denominator, value "
    "from marts.rpt_kpi_monthly where kpi_code in ('INC_TOTAL', 'PRI_FIRES_10K', 'RESP_STD_MET_PCT') "
    "and org_level not in ('district', 'ward')"
)


def mart_rows(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(MART_SQL).df()


@dataclass
class Comparison:
    equal: bool
    rows_mart: int
    rows_baseline: int
    missing_from_baseline: int
    extra_in_baseline: int
    duplicate_keys: int
    mismatched_values: int
    max_abs_diff: float
    samples: list[dict]

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    out = df[COLUMNS].copy()
    out["period_month"] = pd.to_datetime(out["period_month"]).astype("datetime64[ns]")
    for col in ("kpi_code", "org_unit_id", "org_level"):
        out[col] = out[col].astype(str)
    for col in ("numerator", "denominator", "value"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out


def compare(baseline: pd.DataFrame, mart: pd.DataFrame, tol: float = 1e-9) -> Comparison:
    """Same keys, and numerator, denominator and value equal within ``tol`` (relative to the
    magnitude when it is above 1; nulls must match nulls)."""
    b, m = _normalise(baseline), _normalise(mart)
    dup = int(b.duplicated(KEY).sum() + m.duplicated(KEY).sum())
    joined = m.merge(b, on=KEY, how="outer", suffixes=("_mart", "_base"), indicator=True)
    missing = int((joined["_merge"] == "left_only").sum())
    extra = int((joined["_merge"] == "right_only").sum())
    both = joined[joined["_merge"] == "both"]
    bad = np.zeros(len(both), dtype=bool)
    max_diff = 0.0
    for col in ("numerator", "denominator", "value"):
        x, y = both[f"{col}_mart"].to_numpy(), both[f"{col}_base"].to_numpy()
        nan_x, nan_y = np.isnan(x), np.isnan(y)
        diff = np.where(nan_x | nan_y, 0.0, np.abs(x - y))
        scale = np.maximum(1.0, np.maximum(np.abs(np.nan_to_num(x)), np.abs(np.nan_to_num(y))))
        bad |= (nan_x != nan_y) | (diff > tol * scale)
        if len(diff):
            max_diff = max(max_diff, float(diff.max()))
    samples = joined[joined["_merge"] != "both"].head(5).astype(str).to_dict("records") + both[bad].head(5).astype(
        str
    ).to_dict("records")
    return Comparison(
        equal=bool(missing == 0 and extra == 0 and dup == 0 and not bad.any()),
        rows_mart=len(m),
        rows_baseline=len(b),
        missing_from_baseline=missing,
        extra_in_baseline=extra,
        duplicate_keys=dup,
        mismatched_values=int(bad.sum()),
        max_abs_diff=max_diff,
        samples=samples,
    )
