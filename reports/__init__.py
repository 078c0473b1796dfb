"""The read side: trend buckets, spike tests, top lists and claim histories.

Pure functions over records the store returns (``schema.queries.trends`` and friends). The
service layer (``services.reports``) runs the queries and hands the rows here; the CLI, the
read API and the dashboard all call those same service functions.
"""
