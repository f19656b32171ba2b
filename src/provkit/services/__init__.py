"""Layer 3, services: the decorator and proxies, sets, file artifacts, the query
language, lineage, the dataset registry and promote. Knows ``storage`` and ``core``.
"""
