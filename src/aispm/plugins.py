"""Finding registered plugins: built-in and third-party collectors and checks alike.

Both are classes registered under an entry-point group; the entry point's name is the plugin's
name (a collector's ``name``, a check's id).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Any


class PluginError(Exception):
    """A registered collector or check cannot be loaded."""


def load_plugins(group: str, base: type, names: Iterable[str] | None = None) -> dict[str, Any]:
    """The classes registered under ``group`` (only ``names``, when given), by entry-point name.

    Raises PluginError for one that cannot be imported or is not a ``base`` subclass, and KeyError
    for a name asked for that nobody registered.
    """
    wanted = set(names) if names is not None else None
    found: dict[str, Any] = {}
    for ep in _registered(group):
        if wanted is not None and ep.name not in wanted:
            continue
        try:
            cls = ep.load()
        except Exception as exc:
            raise PluginError(f"cannot load {group} plugin {ep.name!r} ({ep.value}): {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginError(f"entry point {ep.name!r} in {group} is not a {base.__name__} subclass")
        found[ep.name] = cls
    if wanted is not None and (missing := wanted - set(found)):
        raise KeyError(f"unknown {group} plugin(s): {', '.join(sorted(missing))}")
    return found


@functools.cache
def _registered(group: str) -> tuple[EntryPoint, ...]:
    """The entry points of ``group``, read from the installed packages' metadata once per process
    (reading every distribution's metadata costs more than a rescan of an unchanged tree)."""
    return tuple(entry_points(group=group))
