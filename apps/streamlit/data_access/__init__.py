"""Every query the app runs, against serving.duckdb only, read-only, one connection per query.

One module per concern; pages import the ones they read:
    connection     the query helper, the publish's own metadata, table and column look-ups
    ingestion      files received, loaded and quarantined, and why
    reference      services, the KPI catalogue, units and the reported months and quarters
    report_sql     SQL pieces the report queries share (report rows, the hierarchy in a month)
    monthly        monthly snapshot, a KPI's history, the station and watch profile
    quarterly      quarterly review, five-year view, best practice, benchmarks
    funnel         funnel plots: units' rates against their size with dbt's control limits
    geography      a KPI by district and ward, a ward's trend, station locations and ward boundaries for the map
    annual_plan    plan activities, deep-dive actions, the golden thread
    drill_through  a KPI value down to its observations and the records dbt marks as counted
    quality        data-quality marks on KPI values and the audit of every check run
    people         the trail of sign-ins, exports and record views (from the accounts file, not serving.duckdb)
    approvals      approved months, their figures as approved, restatements (from the approvals file)
    scope          what the signed-in role and unit may read and write; every module above asks it first
    commentary     owner commentary written as the signed-in person, by those allowed to write it

No KPI rule lives here: the marts hold every figure and dbt's flag columns say which records a KPI
counts; these modules only select, join and order them.
"""
