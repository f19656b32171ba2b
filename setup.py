"""Builds the optional C accelerator; everything else is in pyproject.toml.

``optional=True``: without a compiler provkit installs and runs on its pure-Python path.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("provkit.core._speedups", ["src/provkit/core/_speedups.c"], optional=True)])
