"""The DSGVO use cases: a person's data exported or erased, the retention purge, and the
personal stores they work on."""
