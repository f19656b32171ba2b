"""Layer 1, core: errors, hashing, serializers, artifact records, run info.

Imports nothing else from provkit; every other layer builds on it.
"""
