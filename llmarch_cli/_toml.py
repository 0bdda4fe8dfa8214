"""``tomllib`` from the standard library (Python 3.11+), or its backport ``tomli`` before it."""

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["tomllib"]
