"""`-p locus_nb.pytest_replay`: the nbval replay plugin, which lives in `locus_nb.runs.pytest_replay`."""

from .runs.pytest_replay import pytest_addoption, pytest_runtest_setup

__all__ = ["pytest_addoption", "pytest_runtest_setup"]
