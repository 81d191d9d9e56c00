"""The README's one-line recipes for other Responses servers set what they say: each names an endpoint the lessons
then connect to (with its model, and Bearer auth when it gives a key), and `locus-nb run` takes its arguments.
The servers themselves are not run here (what they answer: tests/test_other_servers.py)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from locus_nb import BearerAuth, NoAuth
from locus_nb.cli._main import parser
from locus_nb.notebook import connect

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def _recipes() -> list[str]:
    section = README.split("## Other Responses servers", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


RECIPES = _recipes()


def test_the_section_has_a_recipe_for_each_server_it_names():
    servers = [line.split("#", 1)[1].split(":", 1)[0].strip() for line in RECIPES]
    assert [s.split()[0] for s in servers] == ["llama.cpp", "Ollama", "vLLM", "Llama"]


@pytest.mark.parametrize("line", RECIPES, ids=[line.split("# ", 1)[1].split(":")[0] for line in RECIPES])
def test_each_recipe_connects_the_lessons_to_its_server(line):
    words = shlex.split(line.split("#", 1)[0])
    env = dict(word.split("=", 1) for word in words if re.match(r"^[A-Z_]+=", word))
    command = [word for word in words if not re.match(r"^[A-Z_]+=", word)]
    assert command[:2] == [".venv/bin/locus-nb", "run"]
    args = parser().parse_args(command[1:])
    assert args.store in ("false", "both")

    conn = connect(env=env, store="true" if args.store == "both" else args.store)  # (both: one of the two runs)
    assert conn.target == "endpoint" and conn.endpoint == env["LOCUS_NB_ENDPOINT"]
    assert conn.model_id == env["LOCUS_NB_MODEL"]
    model = conn.model()
    assert model.base_url == env["LOCUS_NB_ENDPOINT"]
    assert isinstance(model.auth, BearerAuth if "OCI_GENAI_API_KEY" in env else NoAuth)
