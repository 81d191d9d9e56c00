"""The README's mock section lists the model families and the refused fields as the mock's tables say."""

from __future__ import annotations

from pathlib import Path

from locus_nb.mock._models import FAMILIES
from locus_nb.mock._readme import BEGIN, END, render, update
from locus_nb.mock._request_schema import MOVED, UNSUPPORTED

README = Path(__file__).parents[2] / "README.md"


def test_the_readme_block_is_the_rendered_table():
    text = README.read_text()
    section = text.split("\n## The mock server\n")[1].split("\n## ")[0]
    assert section.count(BEGIN) == section.count(END) == 1
    block = BEGIN + section.split(BEGIN)[1].split(END)[0] + END
    assert block == render(), "run: .venv/bin/python -m locus_nb.mock._readme"
    assert update(text) == text


def test_the_rendered_block_names_every_family_and_every_refused_field():
    block = render()
    for family in FAMILIES:
        assert f"| {family.name} | `{family.examples[0]}`" in block
    for name in (*UNSUPPORTED, *MOVED):
        assert f"| `{name}` |" in block


def test_update_replaces_only_the_block():
    stale = f"before\n{BEGIN}\nold table\n{END}\nafter\n"
    assert update(stale) == f"before\n{render()}\nafter\n"
