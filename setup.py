"""Builds the optional C accelerator; everything else is in pyproject.toml.

``optional=True``: without a compiler provkit installs and runs on its pure-Python path.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("provkit._speedups", ["src/provkit/_speedups.c"], optional=True)])
