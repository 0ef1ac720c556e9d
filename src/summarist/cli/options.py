"""The option generator: a command's typer options, made from the config dataclass it builds.

`@options(TrainConfig, command_only={...})` under `@app.command()` gives the command one option
per leaf field of the config (`summarist.config.fields.walk`: name, type, default and the
field's docstring as help; nested configs flattened; renames from the field metadata), plus
`--config/-c`, a YAML preset. Typer reads options from a function signature, so the generated
parameters become the wrapper's `__signature__`. Every option defaults to "not given" (None):
the wrapper hands the command a `Flags` of the values that were given, by field path, and
`Flags.build()` merges defaults < preset < those flags (`summarist.config.merge.merge_config`).
Parameters the command declares itself are command-only; each needs a reason.

Help stays readable at 80 columns because the app renders click's plain help (names whole,
descriptions wrapped; tests/unit/test_cli_help.py checks it).
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from summarist.config.docs import NO_DEFAULT, show_default
from summarist.config.fields import Leaf, walk
from summarist.config.merge import literal_choices, merge_config

PRESET_REASON = "the YAML preset itself: defaults < preset < flags given"
METAVARS = {int: "INT", float: "FLOAT", str: "TEXT", Path: "PATH"}


@dataclass
class Flags:
    """What a command was given: the preset and the flags set, by field path."""

    cls: type
    preset: Path | None = None
    values: dict[tuple[str, ...], Any] = field(default_factory=dict)
    names: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    """The flags given -> the field paths each set (for "cannot be given with" messages)."""

    def build(self, cls: type | None = None, **extra: Any) -> Any:
        """defaults < preset < flags given (+ `extra` values by top-level field name)."""
        given = {**self.values, **{(k,): v for k, v in extra.items()}}
        return merge_config(cls or self.cls, self.preset, given)

    def get(self, *path: str) -> Any:
        return self.values.get(path)


@dataclass(frozen=True)
class Option:
    """One generated option: the flag, the leaves it sets, its typer parameter."""

    flag: str
    leaves: tuple[Leaf, ...]
    param: inspect.Parameter

    def parse(self, value: Any) -> Any:
        parse = self.leaves[0].parse
        if isinstance(value, tuple):
            value = list(value)
        if parse is not None:
            value = [parse(v) for v in value] if isinstance(value, list) else parse(value)
        return value


def generated_options(cls: type) -> list[Option]:
    """One Option per flag name of `cls` (leaves that share a name share the option)."""
    groups: dict[str, list[Leaf]] = {}
    for leaf in walk(cls)[0]:
        groups.setdefault(leaf.flag, []).append(leaf)
    out = []
    for flag, leaves in groups.items():
        leaves.sort(key=lambda leaf: len(leaf.path))  # the outer field speaks for a shared flag
        kinds = {_base(leaf.annotation) for leaf in leaves}
        if len(kinds) > 1:
            raise TypeError(f"{cls.__name__}: {flag} sets fields of different types {kinds}")
        out.append(Option(flag, tuple(leaves), _parameter(flag, leaves[0])))
    return out


def options(
    cls: type, *, command_only: dict[str, str] | None = None, preset: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command `fn(flags: Flags, **own)`; `own` parameters need a reason each."""
    reasons = dict(command_only or {})

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        own = [p for name, p in inspect.signature(fn, eval_str=True).parameters.items()
               if name != "flags"]  # fmt: skip
        missing = [p.name for p in own if p.name not in reasons]
        if missing:
            raise TypeError(f"{fn.__name__}: command-only parameters need a reason: {missing}")
        generated = generated_options(cls)
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
        if preset:
            params.append(_preset_parameter())
        params += [o.param for o in generated]
        names = [p.name for p in params]
        if len(names) != len(set(names)):
            raise TypeError(f"{fn.__name__}: a command-only parameter shadows a generated one")

        @functools.wraps(fn)
        def command(**kwargs: Any) -> Any:
            flags = Flags(cls, kwargs.pop("config", None) if preset else None)
            for option in generated:
                value = kwargs.pop(option.param.name)
                if value is None or value == () or value == []:
                    continue  # not given: the preset's value, else the default, stands
                flags.names[option.flag] = tuple(leaf.path for leaf in option.leaves)
                value = option.parse(value)
                for leaf in option.leaves:
                    flags.values[leaf.path] = value
            return fn(flags, **kwargs)

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {}
        command.config_class = cls  # type: ignore[attr-defined]
        command.command_only = {**reasons, **({"config": PRESET_REASON} if preset else {})}  # type: ignore[attr-defined]
        command.generated = generated  # type: ignore[attr-defined]
        return command

    return decorate


def help_text(leaf: Leaf) -> str:
    """The field's doc and its default, "(default: X)", unless None/empty or already named."""
    text = leaf.doc.rstrip(".")
    default = leaf.default
    shown = leaf.shown
    if shown is None and default is not NO_DEFAULT and default is not None:
        empty = isinstance(default, list | tuple | dict) and not default
        shown = None if empty else show_default(default)
    if shown is None or "(default" in text:
        return text + "."
    return f"{text} (default: {shown})."


def _base(annotation: Any) -> Any:
    """`X` of `X | None`; lists stay lists."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else str
    return annotation


def _parameter(flag: str, leaf: Leaf) -> inspect.Parameter:
    name = flag.removeprefix("--").replace("-", "_")
    base = _base(leaf.annotation)
    choices = literal_choices(base)
    # a list, or a tuple of any length (`stop: tuple[str, ...]`): a repeatable option
    is_list = typing.get_origin(base) is list or (
        typing.get_origin(base) is tuple and typing.get_args(base)[1:] == (Ellipsis,)
    )
    element = typing.get_args(base)[0] if is_list else base
    if choices is not None or leaf.parse is not None or element not in (*METAVARS, bool):
        element = str
    metavar = leaf.metavar or ("[" + "|".join(choices) + "]" if choices else METAVARS.get(element))
    if leaf.argument:
        default = None if leaf.default is not NO_DEFAULT else inspect.Parameter.empty
        kind: Any = list[element] if is_list else element  # type: ignore[valid-type]
        info = typer.Argument(help=help_text(leaf), metavar=metavar, show_default=False)
        if default is None:
            kind = kind | None
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                 annotation=Annotated[kind, info])  # fmt: skip
    decls = [f"{flag}/--no-{flag[2:]}"] if element is bool and not is_list else [flag]
    if leaf.short:
        decls.append(leaf.short)
    kind = (list[element] if is_list else element) | None  # type: ignore[valid-type]
    info = typer.Option(*decls, help=help_text(leaf), metavar=metavar if element is not bool
                        else None, show_default=False)  # fmt: skip
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[kind, info])  # fmt: skip


def _preset_parameter() -> inspect.Parameter:
    info = typer.Option("--config", "-c", help="YAML preset of these settings (keys: the field "
                        "names, nested as `data:`, `generation:`, `scoring:`); flags given "
                        "override it.", metavar="YAML", show_default=False)  # fmt: skip
    return inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[Path | None, info])  # fmt: skip
