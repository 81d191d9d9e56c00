"""`@tool`: a Python function as a Responses function tool.

The JSON schema comes from the signature, the type hints and the docstring (Google, NumPy or Sphinx style, read by
`docstring_parser`); pydantic builds the schema and validates the model's arguments before the function runs. Sync
functions run in a worker thread, so several calls can run at once without blocking the event loop.

    @tool
    def get_temperature(city: str, unit: Unit = Unit.celsius) -> str:
        '''Current temperature in a city.

        Args:
            city: The city, e.g. "Paris".
            unit: The unit to answer in.
        '''
"""

from __future__ import annotations

import asyncio
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import ConfigError, ToolError, mask_secrets

__all__ = ["Tool", "tool", "tool_list", "tool_output", "tool_spec"]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any] = field(repr=False)  # the JSON schema of the arguments object
    strict: bool  # True when the schema fits OpenAI's strict mode (every parameter required)
    function: Callable[..., Any] = field(repr=False)
    arguments_model: Any = field(repr=False)  # the pydantic model that validates arguments

    def spec(self) -> dict[str, Any]:
        """The tool as the request's `tools` entry."""
        return {"type": "function", "name": self.name, "description": self.description, "parameters": self.parameters,
                "strict": self.strict}

    async def invoke(self, arguments: Mapping[str, Any]) -> Any:
        """Validate `arguments` (raises `ToolError` saying what is wrong), then call the function."""
        from pydantic import ValidationError

        if not isinstance(arguments, Mapping):
            raise ToolError(f"{self.name}: arguments must be a JSON object, got {type(arguments).__name__}")
        try:
            validated = self.arguments_model.model_validate(dict(arguments))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}"
                                 for e in exc.errors(include_url=False))
            raise ToolError(f"invalid arguments for {self.name}: {problems}") from None
        kwargs = {field: getattr(validated, field) for field in type(validated).model_fields}
        if inspect.iscoroutinefunction(self.function):
            return await self.function(**kwargs)
        result = await asyncio.to_thread(self.function, **kwargs)
        return await result if inspect.isawaitable(result) else result

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The decorated function still works as a plain function."""
        return self.function(*args, **kwargs)


def tool(function: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None,
         strict: bool | None = None) -> Any:
    """Make a function a tool: `@tool`, or `@tool(name=…, description=…, strict=…)`.

    `strict=None` (default) turns OpenAI's strict schema mode on when the schema allows it.
    """
    if function is None:
        return lambda f: tool(f, name=name, description=description, strict=strict)
    if isinstance(function, Tool):
        if name is description is strict is None:
            return function
        function = function.function
    if not callable(function):
        raise ConfigError(f"@tool needs a function, got {function!r}")
    import docstring_parser  # loaded on first use, like pydantic: `import locus_nb` stays fast

    tool_name = name or function.__name__
    doc = docstring_parser.parse(inspect.getdoc(function) or "")
    model = _arguments_model(function, tool_name, {p.arg_name: (p.description or "").strip() for p in doc.params})
    try:
        schema = _inlined(_without_titles(model.model_json_schema()))
    except Exception as exc:  # pydantic says which type has no JSON schema
        raise ConfigError(f"tool {tool_name}: cannot build a JSON schema: {exc}") from None
    strict_schema = _strict_version(schema)
    use_strict = strict_schema is not None if strict is None else strict
    if use_strict and strict_schema is None:
        raise ConfigError(f"tool {tool_name}: strict=True needs every parameter required and fully typed; "
                          "drop the defaults or pass strict=False")
    if description is None:
        description = "\n\n".join(part for part in (doc.short_description, doc.long_description) if part)
    return Tool(tool_name, description, strict_schema if use_strict else schema, use_strict, function, model)


def tool_list(tools: Any, *, runnable: bool) -> list[Any]:
    """`tools=`, checked: a list (any iterable) of tools, None for none. A model only sends their specs,
    so it takes `@tool` functions and Responses function-tool dicts (`runnable=False`); an Agent runs
    them, so it takes `@tool` functions and plain ones, which it makes tools of (`runnable=True`)."""
    if tools is None:
        return []
    if hasattr(tools, "spec") or callable(tools) and not isinstance(tools, type):
        name = getattr(tools, "name", None) or getattr(tools, "__name__", "f")
        raise ConfigError(f"tools must be a list of tools; got the single tool {name!r}: pass tools=[{name}]")
    kinds = "@tool functions" if runnable else "tools (@tool functions or Responses function-tool dicts)"
    if isinstance(tools, str | bytes | Mapping) or not isinstance(tools, Iterable):
        raise ConfigError(f"tools must be a list of {kinds}, e.g. tools=[get_temperature]; "
                          f"got {type(tools).__name__} {tools!r:.60}")
    items = list(tools)
    for index, item in enumerate(items):
        if not (callable(item) if runnable else hasattr(item, "spec") or isinstance(item, Mapping)):
            fix = ("pass functions (decorated with @tool, or plain ones with type hints and a docstring)" if runnable
                   else "use @tool or a Responses function-tool dict")
            raise ConfigError(f"tools[{index}] is {type(item).__name__} {item!r:.60}, not a tool: {fix}")
    return items


def tool_spec(tool: Any) -> dict[str, Any]:
    """A tool out of `tool_list(…, runnable=False)` as its wire spec: a `@tool`'s own, or the dict."""
    return tool.spec() if hasattr(tool, "spec") else dict(tool)


def _arguments_model(function: Callable[..., Any], tool_name: str, param_docs: Mapping[str, str]) -> Any:
    """A pydantic model of the parameters: the validator of the arguments and source of the schema."""
    from pydantic import ConfigDict, Field, create_model

    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception as exc:  # a type hint that names something undefined
        raise ConfigError(f"tool {tool_name}: cannot read its type hints: {exc}") from None
    fields: dict[str, Any] = {}
    for param in inspect.signature(function).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ConfigError(f"tool {tool_name}: *args/**kwargs cannot be described to a model; name each parameter")
        default = ... if param.default is param.empty else param.default
        described = {"description": param_docs[param.name]} if param_docs.get(param.name) else {}  # else Annotated's
        fields[param.name] = (hints.get(param.name, Any), Field(default, **described))
    try:
        return create_model(f"{tool_name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
    except Exception as exc:  # e.g. a parameter name pydantic reserves
        raise ConfigError(f"tool {tool_name}: cannot take these parameters: {exc}") from None


def tool_output(result: Any) -> str:
    """What the model reads back: text as is, anything else as JSON (pydantic models, dataclasses…)."""
    if isinstance(result, str):
        return str.__str__(result)  # the text itself, also for str subclasses such as str enums
    import pydantic_core

    try:
        return pydantic_core.to_json(result).decode()
    except (pydantic_core.PydanticSerializationError, ValueError, RecursionError):  # not JSON; nested too deeply
        pass
    try:
        return mask_secrets(str(result))
    except RecursionError:
        raise ToolError(f"the tool's result (a {type(result).__name__}) is nested too deeply to send to the model; "
                        "return text, or a flatter value") from None


# -- schema tidying -----------------------------------------------------------------------------

_NAME_MAPS = ("properties", "$defs", "definitions", "patternProperties")  # keys are names, not keywords
_VALUES = ("enum", "const", "default", "examples")  # literal values, not schemas


def _rebuilt(items: Iterable[tuple[str, Any]], walk: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """A schema object from its (key, value) pairs, `walk` applied to every sub-schema (an object, also in a
    list): inside name maps to each entry (the names stay), never to literal values."""

    def sub(value: Any) -> Any:
        if isinstance(value, list):
            return [sub(v) for v in value]
        return walk(value) if isinstance(value, dict) else value

    return {key: {name: sub(entry) for name, entry in value.items()} if key in _NAME_MAPS
            else value if key in _VALUES else sub(value) for key, value in items}


def _without_titles(node: dict[str, Any]) -> dict[str, Any]:
    """pydantic's generated `title`s are noise to a model; a parameter named `title` stays."""
    return _rebuilt(((k, v) for k, v in node.items() if not (k == "title" and isinstance(v, str))), _without_titles)


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """`{"$ref": "#/$defs/Unit"}` replaced by the definition itself, so a model (and a reader) sees
    the enum or object in place; self-referencing definitions stay as references."""
    defs = schema.get("$defs") or {}
    kept: set[str] = set()

    def walk(node: dict[str, Any], inside: tuple[str, ...]) -> dict[str, Any]:
        ref = node.get("$ref", "")
        name = ref.removeprefix("#/$defs/")
        if ref.startswith("#/$defs/") and name in defs:
            if name in inside:  # recursive type: cannot be written out
                kept.add(name)
                return node
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return {**walk(defs[name], (*inside, name)), **rest}
        return _rebuilt(((k, v) for k, v in node.items() if k != "$defs"), lambda sub: walk(sub, inside))

    out = walk(schema, ())
    if kept:
        out["$defs"] = {name: walk(defs[name], (name,)) for name in sorted(kept)}
    return out


class _NotStrict(Exception):
    pass


def _strict_version(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The schema with `additionalProperties: false` on every object, or None when strict mode
    cannot express it: optional parameters (defaults), free-form maps, untyped values."""

    def walk(node: dict[str, Any]) -> dict[str, Any]:
        if not node or "default" in node:
            raise _NotStrict
        if node.get("type") == "object" or "properties" in node:
            properties = node.get("properties") or {}
            all_required = set(node.get("required") or ()) == set(properties)
            if not all_required or node.get("additionalProperties") not in (None, False):
                raise _NotStrict
            node = {**node, "additionalProperties": False}
        return _rebuilt(node.items(), walk)

    try:
        return walk(schema)
    except _NotStrict:
        return None

