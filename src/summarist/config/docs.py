"""Field docs and defaults of the config dataclasses, written once, read by the CLI help.

A field's one-line doc is the string literal under it (as for `TrainConfig.epochs`);
`option_help(TrainConfig, "epochs")` gives "Passes over the training split ... (default: 3.0)."
so `--help` can never drift from the dataclass.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import textwrap
from typing import Any

NO_DEFAULT = object()


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """{field name: its docstring joined to one line} for a dataclass (docless fields absent)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        body = tree.body[0].body  # type: ignore[attr-defined]
        for node, nxt in zip(body, body[1:], strict=False):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            ):
                docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def field_default(cls: type, name: str) -> Any:
    """The default of field `name` (a factory is called); NO_DEFAULT when it has none."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
            return NO_DEFAULT
    raise KeyError(f"{cls.__name__} has no field '{name}'")


def show_default(value: Any) -> str:
    """How a default reads in help text: lists comma-joined, booleans on/off."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def option_help(cls: type, name: str, *, doc: str | None = None) -> str:
    """The field's doc with its default appended, "(default: X)", unless the default is None
    (the doc then says what happens) or the doc already names it."""
    text = (doc or field_docs(cls).get(name, "")).rstrip(".")
    default = field_default(cls, name)
    empty = isinstance(default, list | tuple) and not default  # "(default: )" says nothing
    if default is None or default is NO_DEFAULT or empty or "(default" in text:
        return text + "."
    return f"{text} (default: {show_default(default)})."
