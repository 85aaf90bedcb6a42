"""Golden Thread's Dagster code location: ingestion, dbt, quality, publish."""
