"""`locus-nb`, the command line: the mock server, notebook runs, handouts and `doctor`."""

from ._main import main

__all__ = ["main"]
