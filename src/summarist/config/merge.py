"""The one way a config is put together: defaults < YAML preset (`--config`) < flags given.

`merge_config(TrainConfig, "configs/x.yaml", {("max_steps",): 10})` reads the preset (a mapping
of field names; nested configs are nested mappings, `data: {preset: samsum}`), sets each flag
given at its field's path (a flag not given is simply absent, so the preset's value stands)
and builds the typed config with `build`. Every command that takes `--config` goes through it,
and so does `--resume` (a run's saved config.yaml is a preset of its own).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from summarist.config.fields import config_class, flag_for, spec_of
from summarist.errors import ConfigError, did_you_mean

Given = Mapping[tuple[str, ...], Any]
"""Flags given: the path of the field each sets -> the value (already parsed)."""


def merge_config(cls: type, preset: str | Path | None = None, given: Given | None = None) -> Any:
    """defaults < the YAML preset < the flags given; returns a validated `cls`.

    >>> from summarist.config.train import TrainConfig
    >>> cfg = merge_config(TrainConfig, "configs/dialogsum-minilm.yaml", {("max_steps",): 10})
    """
    raw: dict[str, Any] = read_preset(preset) if preset is not None else {}
    hook = getattr(cls, "normalize_raw", None)  # the preset in today's layout before flags land
    if hook is not None:
        raw = hook(raw)
    given = dict(given or {})
    for f in dataclasses.fields(cls):  # a flag for what this field is derived from resets it
        unset_by = spec_of(f).get("unset_by")
        if unset_by is not None and tuple(unset_by) in given and (f.name,) not in given:
            raw.pop(f.name, None)
    for path, value in given.items():
        set_path(cls, raw, path, value)
    return build(cls, raw)


def read_preset(path: str | Path) -> dict[str, Any]:
    """A YAML preset as a mapping; a missing, unreadable or non-mapping file is a ConfigError."""
    from summarist.rundir import read_yaml

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file not found: {path}", "check the path given to --config")
    if path.is_dir():
        raise ConfigError(
            f"--config {path} is a directory", "pass a YAML file, e.g. configs/x.yaml"
        )
    try:
        loaded = read_yaml(path)
    except Exception as err:  # yaml.YAMLError and friends: one line, not a traceback
        raise ConfigError(
            f"{path}: not valid YAML ({str(err).splitlines()[0]})",
            "fix the file (a YAML mapping of settings, e.g. `max_steps: 100`)",
        ) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(
            f"{path}: expected a mapping of settings at the top level",
            "write `key: value` lines, e.g. `model: t5-small`",
        )
    return loaded


def set_path(cls: type, raw: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """raw[path[0]]...[path[-1]] = value, turning a nested config's shorthand into a mapping."""
    node, owner = raw, cls
    for key in path[:-1]:
        nested = config_class(typing.get_type_hints(owner)[key])
        node[key] = as_mapping(node.get(key), nested or dict)
        node, owner = node[key], nested or dict
    node[path[-1]] = value


def as_mapping(value: Any, cls: type) -> dict[str, Any]:
    """A nested config as a mapping: a mapping, an instance, or its shorthand (`data: corpus/`
    means `data: {data: [corpus/]}`: the class's SHORTHAND field)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    shorthand = getattr(cls, "SHORTHAND", None)
    if shorthand is not None and isinstance(value, str | list | tuple):
        return {shorthand: [str(v) for v in value] if isinstance(value, list | tuple) else [value]}
    raise ConfigError(f"`{getattr(cls, '__name__', 'setting')}` must be a mapping, not {value!r}")


def build(cls: type, raw: Mapping[str, Any], path: tuple[str, ...] = (), root: Any = None) -> Any:
    """`cls` from a mapping: unknown keys named (with a guess), nested configs built, values of
    the wrong type refused, paths and tuples made; `cls.__post_init__` validates the rest."""
    root = root or cls
    raw = dict(raw)
    hook = getattr(cls, "normalize_raw", None)  # a class's older layouts (TrainConfig)
    if hook is not None:
        raw = hook(raw)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        key = ".".join((*path, unknown[0]))
        raise ConfigError(
            f"unknown setting '{key}'{did_you_mean(unknown[0], names)}",
            "see the command's --help for the settings (YAML keys use underscores)",
        )
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        here = (*path, f.name)
        if f.name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                shorthand = getattr(config_class(hints[f.name]), "SHORTHAND", None)
                flag = flag_for(root, (*here, shorthand) if shorthand else here)
                raise ConfigError(
                    f"no {f.name} given", f"pass {flag}, or set `{'.'.join(here)}:` in --config"
                )
            continue
        value, nested = raw[f.name], config_class(hints[f.name])
        if nested is not None and value is not None and not isinstance(value, nested):
            inner = {**spec_of(f).get("defaults", {}), **as_mapping(value, nested)}
            value = build(nested, inner, here, root)
        elif nested is None:
            value = coerce(value, hints[f.name], here, root)
            parse = spec_of(f).get("parse")
            if parse is not None and isinstance(value, str):
                value = parse(value)
            elif parse is not None and isinstance(value, list):
                value = [parse(v) if isinstance(v, str) else v for v in value]
        kwargs[f.name] = value
    return cls(**kwargs)


_KINDS = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}


def coerce(value: Any, annotation: Any, path: tuple[str, ...], root: Any = None) -> Any:
    """A preset's value as the field's type: strings to paths, lists to tuples; a value of the
    wrong kind (`max_steps: many`) is a ConfigError naming the key and the flag."""
    args = typing.get_args(annotation)
    optional = type(None) in args
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        rest = [a for a in args if a is not type(None)]
        if value is None and optional:
            return None
        if len(rest) != 1:
            return value
        annotation = rest[0]
    origin = typing.get_origin(annotation)
    if annotation is Path and isinstance(value, str | Path):
        return Path(value)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    if origin is list and isinstance(value, tuple | str):
        value = [value] if isinstance(value, str) else list(value)
    if origin is list and typing.get_args(annotation) == (Path,) and isinstance(value, list):
        return [Path(v) for v in value]
    if origin is list:
        return value
    if annotation in _KINDS and value is not None:
        wrong = isinstance(value, bool) and annotation is not bool
        ok = isinstance(value, (int, float) if annotation is float else annotation)
        if wrong or not ok:
            key = ".".join(path)
            raise ConfigError(
                f"setting '{key}' must be {_KINDS[annotation]}, not {value!r}",
                f"fix `{key}:` in the YAML (or the {flag_for(root, path)} flag)"
                if root is not None
                else f"fix `{key}:` in the YAML",
            )
    return value


def literal_choices(annotation: Any) -> tuple[str, ...] | None:
    """The choices of a `Literal[...]` (or `Literal[...] | None`) annotation, else None."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(candidate) is Literal:
            return tuple(str(a) for a in typing.get_args(candidate))
    return None
