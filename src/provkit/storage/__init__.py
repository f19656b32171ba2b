"""Layer 2, storage: blob stores, repositories (records, values, compiled queries,
lineage edges) and the configuration that builds them. Knows only ``core``.
"""
