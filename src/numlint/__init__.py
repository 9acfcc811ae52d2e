"""numlint: find and fix numerical hazards in Python array code."""

__version__ = "0.1.0"
