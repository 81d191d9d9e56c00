"""`@tool`: schemas from signatures and docstrings, validation before the call, sync and async."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import threading
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from locus_nb import ConfigError, Message, Tool, ToolError, tool
from locus_nb._tools import tool_list, tool_output, tool_spec


class Unit(str, enum.Enum):
    celsius = "celsius"
    fahrenheit = "fahrenheit"


class Place(BaseModel):
    city: str
    country: str


@tool
def get_temperature(city: str, unit: Unit) -> str:
    """Current temperature in a city.

    Reads the nearest weather station.

    Args:
        city: The city, e.g. "Paris".
        unit: The unit to answer in.
    """
    return f"21 degrees {unit.value} in {city}"


def test_plain_decorator_builds_the_wire_spec():
    assert isinstance(get_temperature, Tool)
    assert get_temperature.spec() == {
        "type": "function",
        "name": "get_temperature",
        "description": "Current temperature in a city.\n\nReads the nearest weather station.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": 'The city, e.g. "Paris".'},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "The unit to answer in."},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
        "strict": True,
    }
    # still a plain function
    assert get_temperature("Oslo", Unit.celsius) == "21 degrees celsius in Oslo"


def test_decorator_with_arguments_overrides_name_and_description():
    @tool(name="weather", description="Weather now.")
    def f(city: str) -> str:
        """Ignored when a description is given."""
        return city

    spec = f.spec()
    assert (spec["name"], spec["description"], f.name, f.description) == ("weather", "Weather now.", "weather", "Weather now.")


@pytest.mark.parametrize("style", ["google", "numpy", "sphinx"])
def test_parameter_descriptions_in_each_docstring_style(style):
    docs = {
        "google": "Add two numbers.\n\nArgs:\n    a: The first.\n    b: The second,\n        on two lines.\n",
        "numpy": "Add two numbers.\n\nParameters\n----------\na : int\n    The first.\nb : int\n    The second,\n    on two lines.\n",
        "sphinx": "Add two numbers.\n\n:param a: The first.\n:param b: The second,\n    on two lines.\n",
    }

    def add(a: int, b: int) -> int:
        return a + b

    add.__doc__ = docs[style]
    props = tool(add).spec()["parameters"]["properties"]
    assert tool(add).description == "Add two numbers."
    assert props["a"] == {"type": "integer", "description": "The first."}
    assert props["b"]["description"].split() == ["The", "second,", "on", "two", "lines."]


def test_types_map_to_json_schema():
    @tool
    def f(a: int, b: float, c: bool, d: list[str], e: Literal["x", "y"], g: str | None, h: dict[str, int] = {}):  # noqa: B006
        """F."""

    props = f.spec()["parameters"]["properties"]
    assert props["a"] == {"type": "integer"} and props["b"] == {"type": "number"} and props["c"] == {"type": "boolean"}
    assert props["d"] == {"type": "array", "items": {"type": "string"}}
    assert props["e"] == {"type": "string", "enum": ["x", "y"]}
    assert props["g"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert props["h"]["additionalProperties"] == {"type": "integer"}


def test_defaults_make_a_non_strict_schema():
    @tool
    def search(query: str, limit: int = 5) -> list[str]:
        """Search."""
        return []

    params = search.spec()["parameters"]
    assert search.strict is False and search.spec()["strict"] is False
    assert params["required"] == ["query"] and params["properties"]["limit"]["default"] == 5
    with pytest.raises(ConfigError, match="strict=True needs every parameter required"):
        tool(search.function, strict=True)
    assert tool(get_temperature.function, strict=False).spec()["strict"] is False


def test_pydantic_models_and_enums_as_parameters():
    seen = {}

    @tool
    def locate(place: Place, unit: Unit) -> str:
        """Locate."""
        seen.update(place=place, unit=unit)
        return "ok"

    params = locate.spec()["parameters"]
    assert params["properties"]["place"] == {
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
        "required": ["city", "country"],
        "additionalProperties": False,  # strict mode needs it on nested objects too
    }
    assert "$defs" not in params
    assert asyncio.run(locate.invoke({"place": {"city": "Paris", "country": "FR"}, "unit": "fahrenheit"})) == "ok"
    assert seen == {"place": Place(city="Paris", country="FR"), "unit": Unit.fahrenheit}


class Node(BaseModel):
    name: str
    children: list[Node]


def test_recursive_models_stay_references():
    @tool
    def walk(tree: Node) -> int:
        """Walk."""
        return 0

    params = walk.spec()["parameters"]
    assert params["properties"]["tree"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert params["$defs"]["Node"]["additionalProperties"] is False


def test_annotated_constraints_and_descriptions_are_kept():
    @tool
    def f(code: Annotated[str, Field(description="Three letters.", min_length=3, max_length=3)], title: str) -> str:
        """F.

        Args:
            title: A parameter named like a schema keyword.
        """
        return code

    props = f.spec()["parameters"]["properties"]
    assert props["code"] == {"type": "string", "description": "Three letters.", "minLength": 3, "maxLength": 3}
    assert props["title"] == {"type": "string", "description": "A parameter named like a schema keyword."}
    with pytest.raises(ToolError, match="code: String should have at least 3 characters"):
        asyncio.run(f.invoke({"code": "ab", "title": "t"}))


async def test_arguments_are_validated_before_the_call():
    calls = []

    @tool
    def f(n: int, unit: Unit) -> str:
        """F."""
        calls.append(n)
        return "ran"

    with pytest.raises(ToolError) as info:
        await f.invoke({"n": "many", "unit": "kelvin", "extra": 1})
    message = str(info.value)
    assert "invalid arguments for f" in message
    assert "n: Input should be a valid integer" in message and "unit: Input should be 'celsius' or 'fahrenheit'" in message
    assert "extra: Extra inputs are not permitted" in message
    with pytest.raises(ToolError, match="missing|Field required"):
        await f.invoke({"unit": "celsius"})
    with pytest.raises(ToolError, match="must be a JSON object"):
        await f.invoke(["not", "a", "dict"])  # type: ignore[arg-type]
    assert calls == []
    assert await f.invoke({"n": "3", "unit": "celsius"}) == "ran" and calls == [3]


async def test_sync_tools_run_in_a_worker_thread_async_ones_on_the_loop():
    where = {}

    @tool
    def sync_tool() -> str:
        """S."""
        where["sync"] = threading.get_ident()
        return "s"

    @tool
    async def async_tool() -> str:
        """A."""
        await asyncio.sleep(0)
        where["async"] = threading.get_ident()
        return "a"

    assert await sync_tool.invoke({}) == "s" and await async_tool.invoke({}) == "a"
    assert where["async"] == threading.get_ident() != where["sync"]


def test_unusable_functions_are_config_errors():
    def variadic(*args: int) -> None:
        """V."""

    with pytest.raises(ConfigError, match=r"\*args"):
        tool(variadic)

    def unresolved(x: NoSuchType) -> None:  # noqa: F821
        """U."""

    with pytest.raises(ConfigError, match="type hints"):
        tool(unresolved)
    with pytest.raises(ConfigError, match="needs a function"):
        tool(42)  # type: ignore[arg-type]


def test_untyped_parameters_are_accepted_but_not_strict():
    @tool
    def f(x):  # noqa: ANN001
        """F."""
        return x

    assert f.spec()["parameters"]["properties"]["x"] == {}
    assert f.strict is False
    assert asyncio.run(f.invoke({"x": [1, 2]})) == [1, 2]


def test_tool_output_text():
    @dataclasses.dataclass
    class Reading:
        celsius: float

    assert tool_output("as is") == "as is"
    assert tool_output({"celsius": 21}) == '{"celsius":21}'
    assert tool_output(Reading(21.5)) == '{"celsius":21.5}'
    assert tool_output(Place(city="Paris", country="FR")) == '{"city":"Paris","country":"FR"}'
    assert tool_output(Unit.celsius) == "celsius" and type(tool_output(Unit.celsius)) is str
    assert tool_output(object()).startswith("<object object")


def test_the_model_sends_the_spec(make_model):
    body = make_model().request_body([Message.user("hi")], tools=[get_temperature])
    assert body["tools"] == [get_temperature.spec()]


SPEC = {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}}


def plain(city: str) -> str:
    """A function not yet made a tool."""
    return city


def test_one_list_rule_for_the_model_and_the_agent():
    """A model sends specs (@tool objects, function-tool dicts); an Agent runs tools (@tool objects, plain
    functions). Either takes any iterable, and None for none."""
    assert [tool_spec(t) for t in tool_list((t for t in [get_temperature, SPEC]), runnable=False)] == [
        get_temperature.spec(), SPEC]
    assert tool_list([get_temperature, plain], runnable=True) == [get_temperature, plain]
    assert tool_list(None, runnable=False) == tool_list(None, runnable=True) == []
    with pytest.raises(ConfigError, match=r"^tools\[1\] is function .*, not a tool: use @tool or a Responses"):
        tool_list([SPEC, plain], runnable=False)
    with pytest.raises(ConfigError, match=r"^tools\[0\] is dict .*, not a tool: pass functions"):
        tool_list([SPEC], runnable=True)
    for runnable in (False, True):
        with pytest.raises(ConfigError, match=r"^tools must be a list of tools; got the single tool 'plain'"):
            tool_list(plain, runnable=runnable)
        with pytest.raises(ConfigError, match=r"^tools must be a list of .*; got bytes b'get_time'"):
            tool_list(b"get_time", runnable=runnable)
