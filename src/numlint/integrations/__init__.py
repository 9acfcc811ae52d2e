"""numlint inside other tools (flake8)."""
