"""What locus-nb's own processes (the `locus-nb` command, the `run` workers) leave unimported.

nbformat validates notebooks with jsonschema, whose format checks import `rfc3987_syntax` when it is
installed (jupyterlab's dependencies bring it): that module builds Earley parsers for the IRI grammar
at import, ~2 s of CPU in every process that reads a notebook. No notebook schema uses the `iri`
formats, and nbformat checks no formats at all; without the module jsonschema simply has no `iri`
checker. Only processes that are ours do this: a library caller keeps its jsonschema as it is.
"""

from __future__ import annotations

import sys

__all__ = ["skip_iri_grammar"]


def skip_iri_grammar() -> None:
    """Make `import rfc3987_syntax` fail in this process (jsonschema then skips it), unless it is loaded already."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None: "import of … halted"
