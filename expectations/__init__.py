"""Golden Thread's data-quality layer, written with Great Expectations (GX Core 1.x).

``expectations.suites`` defines the suites as plain data (which GX expectation, its arguments,
its severity and why); ``expectations.runner`` validates a pandas DataFrame against a suite with
GX; ``expectations.store`` appends every run's results and failing records to the warehouse's
``audit.dq_*`` tables and builds GX Data Docs as a by-product.
"""
