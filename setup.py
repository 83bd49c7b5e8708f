"""The package's one C extension; everything else about the build is in pyproject.toml.

setup.py rather than pyproject's `[tool.setuptools] ext-modules`, which setuptools still calls experimental.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("cds.fhir._nesting", sources=["cds/fhir/_nesting.c"])])
