"""Golden Thread's data-quality layer, written with Great Expectations (GX Core 1.x).

``expectations.suites`` defines the suites as plain data (which GX expectation, its arguments,
its severity and why); ``expectations.runner`` validates a pandas DataFrame against a suite with
GX (through ``expectations.gx_adapter``, the one module that imports GX, pinned to its version);
``expectations.store`` appends every run's results and failing records to the warehouse's
``audit.dq_*`` tables; ``expectations.docs`` builds GX Data Docs as a by-product;
``expectations.pipeline`` runs the suites on the warehouse's tables.
"""
