"""Read a params or published YAML file without trusting it.

Every way a file can be wrong is reported as itself, in one bounded message naming the file:
missing, a directory, unreadable, too large, not UTF-8, not YAML, a key written twice (YAML
would silently keep the last), or aliases nested inside aliases that expand a few kilobytes
into millions of values (the "billion laughs" file, whose error message once ran to 72 MB).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import yaml

from mnistlab.core.errors import YamlFileError

MAX_BYTES = 1_000_000  # a params file is a few kilobytes; a published one a few more
MAX_VALUES = 200_000  # values after expanding every alias; the studies hold a few hundred
MAX_MESSAGE = 4000  # characters of any one error message


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key written twice in one mapping is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` may be overridden by the keys written beside it
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: SafeLoader itself reports it
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found key {shorten(key)} twice (first on line {first.line + 1}); "
                    "YAML would keep only the last: delete one", key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def shorten(value: Any, limit: int = 120) -> str:
    """``repr(value)`` cut to ``limit`` characters, so a huge input cannot flood a message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 25]}… ({len(text)} characters)"


def bounded(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` cut to ``limit`` characters, saying how much was left out."""
    if len(message) <= limit:
        return message
    return f"{message[:limit]}\n  … ({len(message) - limit} more characters left out)"


def load_yaml(path: str | Path, what: str = "params file",
              error: type[ValueError] = YamlFileError) -> Any:
    """The file's data, or ``error`` naming the file and what is wrong with it."""
    path = Path(path)

    def fail(problem: str) -> ValueError:
        return error(bounded(f"{path}: {problem}"))

    if path.is_dir():
        raise fail(f"is a directory, not a {what}: name the .yaml file inside it")
    if not path.exists():
        raise fail(f"{what} not found")
    try:
        data = path.read_bytes()
    except OSError as problem:
        raise fail(f"cannot read the {what}: {problem.strerror}") from None
    if len(data) > MAX_BYTES:
        raise fail(f"{len(data)} bytes is too large for a {what} (at most {MAX_BYTES})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as problem:
        line = data[:problem.start].count(b"\n") + 1
        raise fail(f"not UTF-8 text: byte 0x{data[problem.start]:02x} on line {line} "
                   f"cannot be read; save the file as UTF-8") from None
    try:
        stream = io.StringIO(text)
        stream.name = str(path)  # PyYAML names the file in its messages
        raw = yaml.load(stream, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as problem:
        raise fail(f"not valid YAML: {problem}") from None
    except RecursionError:
        raise fail("not valid YAML: nested too deeply") from None
    size = _expanded_size(raw, {}, set())
    if size > MAX_VALUES:
        raise fail(f"its aliases expand to more than {MAX_VALUES} values (aliases nested "
                   "inside aliases?): write the values out instead")
    return raw


def _expanded_size(value: Any, memo: dict[int, int], open_: set[int]) -> int:
    """How many values ``value`` holds with every alias written out, computed once per
    shared object so a bomb of nested aliases is measured without being expanded."""
    if not isinstance(value, (dict, list)):
        return 1
    ident = id(value)
    if ident in memo:
        return memo[ident]
    if ident in open_:
        return MAX_VALUES + 1  # an alias to a mapping that contains it: endless when expanded
    open_.add(ident)
    children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
    total = 1
    for child in children:
        total += _expanded_size(child, memo, open_)
        if total > MAX_VALUES:
            break
    open_.discard(ident)
    memo[ident] = total
    return total
