"""Loaded before every other plugin by make test (`python -m pytest -p tests.lean_imports`): like the locus-nb command
(locus_nb/_lean.py), each test process skips building jsonschema's IRI grammar, ~2 s of CPU in each of the
pytest processes make test starts (nbval imports nbformat as pytest loads it). No test checks `iri` formats."""

from locus_nb.runs._lean import skip_iri_grammar

skip_iri_grammar()
