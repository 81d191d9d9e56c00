"""The README's list of the model families the mock serves and the request fields it refuses,
rendered from the mock's own tables (`_models.FAMILIES`, `_request_schema.UNSUPPORTED` and `MOVED`).

`python -m locus_nb.mock._readme` rewrites the block between the markers in README.md;
tests/mock/test_readme.py fails when the README and the tables disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ._models import FAMILIES, Family
from ._request_schema import MOVED, UNSUPPORTED

__all__ = ["BEGIN", "END", "render", "update"]

BEGIN = "<!-- generated from the mock's tables by `python -m locus_nb.mock._readme`; do not edit by hand -->"
END = "<!-- end of generated block -->"
README = Path(__file__).resolve().parents[2] / "README.md"
_REFUSED = "400 `unsupported_parameter`"


def _code(values: tuple[str, ...]) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _omitted(family: Family) -> str:
    if family.thinks_by_default:
        return f"reasons at `{family.default_effort}`" if family.default_effort else "reasons"
    return "no reasoning (effort `none`)" if family.default_effort == "none" else "no reasoning"


def _sampling(family: Family) -> str:
    return {"always": "taken", "effort_none": "only with effort `none`", "never": _REFUSED}[family.sampling]


def render() -> str:
    """The generated block, markers included."""
    lines = [
        BEGIN,
        "Model families (`locus_nb/mock/_models.py`), each with the real endpoint's rules and defaults; the",
        "first whose id matches decides (`openai.` is optional for OpenAI's ids):",
        "",
        "| family | e.g. | `reasoning` omitted | `reasoning.effort` | `temperature`, `top_p`, logprobs |",
        "|---|---|---|---|---|",
    ]
    for f in FAMILIES:
        efforts = _code(f.efforts) if f.efforts else _REFUSED
        lines.append(f"| {f.name} | {_code(f.examples[:2])} | {_omitted(f)} | {efforts} | {_sampling(f)} |")
    lines += [
        "",
        "Request fields the real endpoint knows and the mock refuses with a 400 `unsupported_parameter` rather",
        "than ignoring:",
        "",
        "| field | why |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | not implemented: {feature} |" for name, feature in UNSUPPORTED.items()]
    lines += [f"| `{name}` | moved to `{where}` in the Responses API (the real answer) |"
              for name, where in MOVED.items()]
    lines.append(END)
    return "\n".join(lines)


def update(text: str) -> str:
    """`text` with its generated block replaced by a fresh one."""
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + render() + tail


def main() -> None:
    README.write_text(update(README.read_text()))
    print(f"updated {README}", file=sys.stderr)


if __name__ == "__main__":
    main()
