"""How a config field becomes a command-line flag: the one naming rule and its table of exceptions.

Every command builds one typed config; every leaf field of it is a flag named after the field
(`max_steps` -> `--max-steps`), with the field's type, its default and, as help, the docstring
under it. Nested configs (a field whose type is a config dataclass: `data: DataConfig`,
`generation: GenerationSettings`, `scoring: ScoringConfig`) are flattened by one rule: their
fields become flags of the command itself. Where a field needs something else, it says so in
its metadata, `field(metadata=cli(flag="--summary-column"))`:

| key | meaning |
|---|---|
| `flag` | another flag name (a name users already type, or one that avoids a collision) |
| `short` | a one-letter alias, e.g. `-o` |
| `argument` | a positional argument instead of an option |
| `metavar` | how help names the value (`A,B,C`) |
| `parse` | text -> value for a flag that is not a plain type (each text of a list) |
| `prefix` | nested config: a prefix for every flag inside it (`check-` -> `--check-data`) |
| `defaults` | nested config: this command's defaults for some of its fields |
| `shown` | nested config: what help says a computed default is |
| `overrides` | a dict of overrides: the config class whose fields it overrides (every one None) |
| `no_flag` | why this field is not a flag (YAML-only, or filled in by the command itself) |
| `unset_by` | a path; a flag given for it drops this field's preset value (it is derived from it) |

Two fields that come out with the same flag name share the flag: one flag sets both (train's
`--seed` sets the training seed and the split seed). Its help is the outer field's doc.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from summarist.config.docs import NO_DEFAULT, field_docs

CLI = "cli"
SAVED = "the model's saved setting"
"""The shown default of an override: None keeps what the model was saved with."""


def cli(**spec: Any) -> dict[str, Any]:
    """Field metadata for the CLI (keys in the module doc): `field(metadata=cli(short="-o"))`."""
    return {CLI: spec}


def spec_of(f: dataclasses.Field) -> dict[str, Any]:
    return dict(f.metadata.get(CLI, {}))


@dataclass(frozen=True)
class Leaf:
    """One settable value of a command's config, and the flag that sets it."""

    path: tuple[str, ...]
    """Where the value goes: ("data", "summary_columns")."""
    flag: str
    """--summary-column"""
    annotation: Any
    """The field's resolved type, e.g. `list[str]`, `int | None`."""
    default: Any
    """The default (a factory called), NO_DEFAULT when the field has none."""
    doc: str
    shown: str | None = None
    """What help says the default is when it is computed, not a value."""
    short: str | None = None
    argument: bool = False
    metavar: str | None = None
    parse: Callable[[str], Any] | None = None


@dataclass(frozen=True)
class NoFlag:
    path: tuple[str, ...]
    reason: str


def config_class(annotation: Any) -> type | None:
    """The config dataclass inside `X` or `X | None`, else None."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        if len(args) != 1:
            return None
        annotation = args[0]
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return annotation
    return None


def flag_name(name: str, spec: dict[str, Any], prefix: str = "") -> str:
    """The naming rule: `--` + prefix + the field name with dashes, or the table's `flag`."""
    bare = spec["flag"].removeprefix("--") if "flag" in spec else name.replace("_", "-")
    return f"--{prefix}{bare}"


def default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return NO_DEFAULT


@cache
def walk(cls: type) -> tuple[tuple[Leaf, ...], tuple[NoFlag, ...]]:
    """Every leaf field of `cls` with its flag (nested configs flattened), and the fields that
    are no flag, with the reason."""
    leaves: list[Leaf] = []
    skipped: list[NoFlag] = []
    _walk(cls, (), "", {}, {}, leaves, skipped)
    return tuple(leaves), tuple(skipped)


def _walk(
    cls: type,
    path: tuple[str, ...],
    prefix: str,
    defaults: dict[str, Any],
    shown: dict[str, str],
    leaves: list[Leaf],
    skipped: list[NoFlag],
) -> None:
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    own = inspect.get_annotations(cls)  # a class's own fields first, then inherited
    ordered = sorted(dataclasses.fields(cls), key=lambda f: f.name not in own)
    for f in ordered:
        spec, here = spec_of(f), (*path, f.name)
        if "no_flag" in spec:
            skipped.append(NoFlag(here, spec["no_flag"]))
            continue
        nested = config_class(hints[f.name])
        if nested is not None:
            inner = prefix + spec.get("prefix", "")
            _walk(nested, here, inner, spec.get("defaults", {}), spec.get("shown", {}),
                  leaves, skipped)  # fmt: skip
            continue
        if "overrides" in spec:
            of = spec["overrides"]
            hints_of, docs_of = typing.get_type_hints(of), field_docs(of)
            for g in dataclasses.fields(of):
                leaves.append(Leaf((*here, g.name), flag_name(g.name, spec_of(g), prefix),
                                   hints_of[g.name] | None, None, docs_of.get(g.name, ""),
                                   shown=SAVED))  # fmt: skip
            continue
        default = defaults.get(f.name, default_of(f))
        leaves.append(
            Leaf(
                here,
                flag_name(f.name, spec, prefix),
                hints[f.name],
                default,
                docs.get(f.name, ""),
                shown=shown.get(f.name),
                short=None if prefix else spec.get("short"),
                argument=bool(spec.get("argument")),
                metavar=spec.get("metavar"),
                parse=spec.get("parse"),
            )
        )


def flag_for(cls: type, path: tuple[str, ...]) -> str:
    """The flag that sets `path` of `cls` (for error messages), or the dotted YAML key."""
    for leaf in walk(cls)[0]:
        if leaf.path == path:
            return leaf.flag
    return ".".join(path)
