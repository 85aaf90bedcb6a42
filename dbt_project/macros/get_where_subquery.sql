{#- What a generic test reads (dbt calls this for the tested model of every generic test): the
    model, narrowed by the test's own ``where`` config, and, in a ``dbt build``, narrowed to the
    rows that no successful build has tested yet.

    Incremental models: every row carries the dbt invocation that wrote it (``_invocation_id``)
    and the pipeline records each build and whether it succeeded (``audit.dbt_invocations``). A
    successful build ran every test on the rows it wrote, so a monthly close need only test the
    rows it rewrote and any written by a build that failed, was not recorded (a ``dbt build`` run
    by hand) or predates the record: this is what keeps a close's tests on incremental models
    from reading ten years of rows each. A full build writes every row again, so it tests them all.

    Not narrowed: tables rebuilt whole (dimensions, intermediate tables), seeds, singular tests,
    ``dbt test`` on its own, a build without the audit table (dbt run outside the pipeline), and any
    run with ``--vars '{test_all_rows: true}'``. A relationships test on an incremental model
    still reads its parent whole; an orphan that appears because a parent lost a row is found by
    the next full build. -#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do filters.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- if untested_rows_only(relation) -%}
        {%- do filters.append(
            "_invocation_id not in (select invocation_id from audit.dbt_invocations "
            ~ "where success and invocation_id is not null)"
        ) -%}
    {%- endif -%}
    {%- if filters -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ filters | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{% macro untested_rows_only(relation) -%}
    {%- if not execute or flags.WHICH != 'build' or var('test_all_rows', false) -%}
        {%- do return(false) -%}
    {%- endif -%}
    {#- ``model`` is the test being compiled; ``attached_node`` the model it tests (none for a source). -#}
    {%- set tested = graph.nodes.get(model.get('attached_node')) -%}
    {%- if tested is none
        or tested.config.materialized != 'incremental'
        or '_invocation_id' not in tested.columns -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- set log_table = adapter.get_relation(database=relation.database, schema='audit', identifier='dbt_invocations') -%}
    {%- do return(log_table is not none) -%}
{%- endmacro %}
