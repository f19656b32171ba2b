"""Layer 4, interfaces: the command line, lineage pictures and Jupyter reprs.

The public namespace ``provkit`` sits above all four layers.
"""
