{#- What a generic test reads (dbt calls this for the tested model of every generic test): the
    model, narrowed by the test's own ``where`` config, and, in a ``dbt build``, narrowed to the
    rows that no successful build has tested yet.

    Incremental models: every row carries the dbt invocation that wrote it (``_invocation_id``)
    and the pipeline records each build and whether it succeeded (``audit.dbt_invocations``). A
    successful build ran every test on the rows it wrote, so a monthly close need only test the
    rows it rewrote and any written by a build that failed, was not recorded (a ``dbt build`` run
    by hand) or predates the record: this is what keeps a close's ~90 tests on incremental models
    from reading ten years of rows each. A full build writes every row again, so it tests them all.

    Staging views (``meta: rows_carry_batches``): every row carries its ingestion batch
    (``_batch_id``), and the pipeline records the last batch each build saw. A staging row changes
    only with a new delivery (a new batch), so a build tests the rows of batches after the last
    one a successful build saw: a close tests its month, not ten years of raw rows. A ``unique``
    test reads every row whose key a new row holds (a new row may repeat an old one's key); a
    ``relationships`` test reads every row when its parent's raw table has had any delivery since
    (a re-delivered reference that dropped a station orphans old rows too). ``--full-refresh``
    (``pipeline --full``) tests every staging row.

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
    {%- set batches = untested_batches_filter(relation) -%}
    {%- if batches -%}
        {%- do filters.append(batches) -%}
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


{#- The filter (SQL) narrowing a staging test to untested batches, or '' (see above). -#}
{% macro untested_batches_filter(relation) -%}
    {%- if not execute or flags.WHICH != 'build' or flags.FULL_REFRESH or var('test_all_rows', false) -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.get('attached_node')) -%}
    {%- if tested is none or not tested.config.meta.get('rows_carry_batches') -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set log_table = adapter.get_relation(database=relation.database, schema='audit', identifier='dbt_invocations') -%}
    {%- if log_table is none
        or 'batches_through' not in adapter.get_columns_in_relation(log_table) | map(attribute='name') | list -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set seen = "(select coalesce(max(batches_through), 0) from audit.dbt_invocations where success)" -%}
    {%- set test = model.get('test_metadata') or {} -%}
    {%- if test.get('name') == 'relationships' -%}
        {%- set raw_tables = [] -%}
        {%- for parent_id in model.depends_on.nodes if parent_id != tested.unique_id -%}
            {%- set parent = graph.nodes.get(parent_id) -%}
            {%- if parent is none or not parent.config.meta.get('rows_carry_batches') -%}
                {%- do return('') -%}
            {%- endif -%}
            {%- for source_id in parent.depends_on.nodes if source_id.startswith('source.') -%}
                {%- do raw_tables.append("'" ~ graph.sources[source_id].identifier ~ "'") -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if not raw_tables -%}
            {%- do return('') -%}
        {%- endif -%}
        {%- set since = run_query(
            "select count(*) from audit.ingestion_log where batch_id > " ~ seen
            ~ " and raw_table in (" ~ raw_tables | join(', ') ~ ")"
        ) -%}
        {%- if since.columns[0].values()[0] > 0 -%}
            {%- do return('') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if test.get('name') == 'unique' -%}
        {%- set key = test.kwargs.column_name -%}
        {%- do return(key ~ " in (select " ~ key ~ " from " ~ relation ~ " where _batch_id > " ~ seen ~ ")") -%}
    {%- endif -%}
    {%- do return("_batch_id > " ~ seen) -%}
{%- endmacro %}
