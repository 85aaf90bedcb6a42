{#- What a generic test reads (dbt calls this for the tested model of every generic test): the
    model, narrowed by the test's own ``where`` config, and, in a ``dbt build``, narrowed to the
    rows that no successful build has tested yet, where that is known:

    * an incremental model: every row carries the dbt invocation that wrote it (``_invocation_id``)
      and the pipeline records each build and whether it succeeded (``audit.dbt_invocations``). A
      successful build ran every test on the rows it wrote, so a monthly close tests the rows it
      rewrote and any written by a build that failed, was not recorded (a ``dbt build`` run by
      hand) or predates the record. A full build writes every row again, so it tests them all.
    * a staging view, for the tests of one row at a time (``not_null``, ``accepted_values``): a
      raw row never changes once landed, and once superseded it never becomes current again, so
      such a test can only fail on rows of batches landed after the newest batch a successful
      build saw (``max_batch_id``). Uniqueness and relationships tests still read every row: a
      new delivery can duplicate an old record, or withdraw the parent of an old one.

    This is what keeps a close's tests from reading ten years of rows each. Not narrowed: tables
    rebuilt whole, singular tests, ``dbt test`` on its own, a build without the audit table (dbt
    run outside the pipeline), and any run with ``--vars '{test_all_rows: true}'``. After changing
    a test, run a full build so that earlier rows meet it too. -#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do filters.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set untested = untested_rows_filter(relation) -%}
    {%- if untested -%}
        {%- do filters.append(untested) -%}
    {%- endif -%}
    {%- if filters -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ filters | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{% macro untested_rows_filter(relation) -%}
    {%- if not execute or flags.WHICH != 'build' or var('test_all_rows', false) -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set tested = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model'
        and node.schema | lower == (relation.schema or '') | lower
        and (node.alias or node.name) | lower == (relation.identifier or '') | lower -%}
        {%- do tested.append(node) -%}
    {%- endfor -%}
    {%- if not tested -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set node = tested[0] -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- if node.config.materialized == 'incremental' and '_invocation_id' in node.columns -%}
        {%- set condition = "_invocation_id not in (select invocation_id from audit.dbt_invocations "
            ~ "where success and invocation_id is not null)" -%}
    {%- elif node.config.meta.get('rows_carry_batch_id') and test_name in ('not_null', 'accepted_values') -%}
        {%- set condition = "_batch_id > (select coalesce(max(max_batch_id), -1) from audit.dbt_invocations "
            ~ "where success)" -%}
    {%- else -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set log_table = adapter.get_relation(database=relation.database, schema='audit', identifier='dbt_invocations') -%}
    {%- if log_table is none -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- if 'max_batch_id' in condition
        and 'max_batch_id' not in (adapter.get_columns_in_relation(log_table) | map(attribute='name') | list) -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- do return(condition) -%}
{%- endmacro %}
