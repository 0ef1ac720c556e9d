"""Field docs and defaults of the config dataclasses, written once, read by the CLI help.

A field's one-line doc is the string literal under it (as for `TrainConfig.epochs`);
`field_docs(TrainConfig)["epochs"]` reads it, and the option generator (`summarist.cli.options`)
makes it the flag's help, with the field's default, so `--help` can never drift from it.
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


def show_default(value: Any) -> str:
    """How a default reads in help text: lists comma-joined, booleans on/off."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
