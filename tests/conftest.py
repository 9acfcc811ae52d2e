"""Fixtures shared by the test modules."""

import pytest

from samples import CLEAN, HAZARDS


@pytest.fixture
def project(tmp_path):
    """A folder `pkg` with one hazardous module and one clean one."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(HAZARDS)
    (tmp_path / "pkg" / "clean.py").write_text(CLEAN)
    return tmp_path
