"""A scenario file's YAML, parsed once with limits (size, nesting, nodes), and the YAML line of a
field for error messages."""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import InputError, quote


#: Largest scenario file read, bytes, and deepest nesting of mappings and lists accepted.
MAX_SCENARIO_BYTES = 64 * 1024 * 1024
MAX_NESTING = 40
#: Most YAML nodes (aliases counted each time they are used) in one scenario.
MAX_YAML_NODES = 5_000_000


def parse_scenario_yaml(raw: bytes, source: str) -> tuple[Any, yaml.Node | None]:
    """Parse a scenario file's bytes once: the data and the YAML node tree (for line numbers).

    Refuses, naming ``source``: empty, binary or non-UTF-8 text, invalid YAML, nesting deeper than
    :data:`MAX_NESTING`, more than :data:`MAX_YAML_NODES` nodes (alias bombs included) and values
    Python cannot hold (integers of thousands of digits).
    """
    if not raw.strip():
        raise InputError("file is empty; expected a scenario in YAML", source=source)
    if b"\x00" in raw:
        raise InputError("file is binary, not a YAML text file", source=source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise InputError(f"file is not UTF-8 text (byte {err.start})", source=source, location=f"line {line}") from None
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_cls(text)
    try:
        try:
            node = loader.get_single_node()
            if node is None:
                raise InputError("file is empty; expected a scenario in YAML", source=source)
            _check_yaml_shape(node, source)
            data = loader.construct_document(node)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
            problem = getattr(err, "problem", None) or str(err)
            raise InputError(f"not valid YAML: {quote(problem, 200)}", source=source, location=where) from None
        except InputError:  # the shape checks' own, already naming the place
            raise
        except RecursionError:
            raise InputError(f"nested too deeply (more than {MAX_NESTING} levels of mappings and lists)",
                             source=source) from None
        except (ValueError, OverflowError) as err:  # e.g. an integer of more than 4,300 digits
            raise InputError(f"a value cannot be read: {quote(str(err), 200)}", source=source) from None
    finally:
        loader.dispose()
    return data, node


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _dotted(path: tuple) -> str:
    """``("time", "windows", 0)`` -> ``"time.windows[0]"``."""
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else ("." if out else "") + str(key)
    return out


def _check_unique_keys(node: yaml.MappingNode, path: tuple, source: str) -> None:
    """A key given twice in one mapping is an error naming it and both lines: YAML loaders keep
    the last silently, so the first value would be ignored without a word."""
    first_line: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
            continue  # ``<<: *base`` merges may repeat; complex keys are not scenario fields
        line = key.start_mark.line + 1
        if (key.tag, key.value) in first_line:
            before = first_line[key.tag, key.value]
            lines = f"lines {before} and {line}" if before != line else f"line {line}"
            raise InputError(f"key {quote(key.value)} is given twice, on {lines}; keep one (YAML would keep only "
                             "the last, silently)", source=source,
                             location=f"{_dotted(path + (key.value,))} (line {line})")
        first_line[key.tag, key.value] = line


def _check_yaml_shape(root: yaml.Node, source: str) -> None:
    """Depth and size of the node tree, walked without recursion; aliases count every use. Keys
    given twice in one mapping are refused (:func:`_check_unique_keys`)."""
    stack = [(root, 1, ())]
    seen = 0
    while stack:
        node, depth, path = stack.pop()
        seen += 1
        if depth > MAX_NESTING:
            raise InputError(f"nested too deeply (more than {MAX_NESTING} levels of mappings and lists)",
                             source=source, location=f"line {node.start_mark.line + 1}")
        if seen > MAX_YAML_NODES:
            raise InputError(f"holds more than {MAX_YAML_NODES:,} values (aliases counted each time they "
                             "are used); a scenario this large is not plausible", source=source)
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1, path + (i,)) for i, child in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            _check_unique_keys(node, path, source)
            for key, value in node.value:
                stack.append((key, depth + 1, path))
                stack.append((value, depth + 1, path + (getattr(key, "value", "?"),)))


def yaml_line(node: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the YAML node at ``loc`` (as far as it exists), for error messages. A key
    that is missing gets the line of the key whose mapping lacks it (``time:`` for a missing
    ``time.duration_s``), not that mapping's first entry."""
    line = None if node is None else node.start_mark.line + 1
    for key in loc:
        if node is None:
            break
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == key), None)
            if pair is None:
                return line
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    if node is not None:
        line = node.start_mark.line + 1
    return line
