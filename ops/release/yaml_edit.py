"""Minimal text edits of a YAML file: change one value, add or remove one key, touch nothing else.

Used by `python -m ops promote` so a promotion's diff is exactly the promoted lines: comments,
key order, quoting and the indentation of unrelated YAML stay byte for byte as they were
(re-dumping the whole document would re-indent lists and re-wrap lines). Positions come from
ruamel.yaml's round-trip parser; after every edit the text is parsed again.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

Path = tuple[str, ...]


class YamlEditError(Exception):
    """The edit cannot be made as a minimal text change (e.g. a flow-style `{...}` mapping)."""


def _load(text: str) -> Any:
    return YAML(typ="rt").load(text)


def plain_scalar(value: Any) -> str:
    """`value` as a YAML scalar that reads back as exactly `value` (plain when safe, else double-quoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/@:+-]*", text) and ": " not in text:
        try:
            if YAML(typ="safe").load(f"k: {text}\n") == {"k": text}:
                return text
        except Exception:  # anything doubtful gets quoted
            pass
    return json.dumps(text)  # a JSON string is a valid double-quoted YAML scalar


class YamlText:
    """A YAML document's text, edited line by line."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        self.doc = _load(text)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def _reload(self) -> None:
        self.doc = _load(self.text)

    def _node(self, path: Path) -> Any:
        node: Any = self.doc
        for part in path:
            if not isinstance(node, CommentedMap) or part not in node:
                return None
            node = node[part]
        return node

    def _block_map(self, path: Path) -> CommentedMap:
        node = self._node(path)
        if not isinstance(node, CommentedMap):
            raise YamlEditError(f"`{'.'.join(path)}` is not a mapping")
        if node.fa.flow_style():
            raise YamlEditError(f"`{'.'.join(path)}` is a flow-style mapping ({{...}}): write it as indented lines")
        return node

    def _end_line(self, node: Any, key: Any) -> int:
        """The last line (0-based) of `key`'s entry in mapping `node`."""
        value = node[key]
        if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
            last = list(value)[-1]
            return self._end_line(value, last)
        if isinstance(value, CommentedSeq) and value and not value.fa.flow_style():
            line = value.lc.item(len(value) - 1)[0]
            item = value[-1]
            if isinstance(item, CommentedMap) and item:
                return max(line, self._end_line(item, list(item)[-1]))
            return line
        return node.lc.key(key)[0] if not isinstance(value, str) or "\n" not in value else self._last_text_line(node, key)

    def _last_text_line(self, node: Any, key: Any) -> int:
        start = node.lc.key(key)[0]
        indent = node.lc.key(key)[1]
        end = start
        for i in range(start + 1, len(self.lines)):
            stripped = self.lines[i].strip()
            if stripped and len(self.lines[i]) - len(self.lines[i].lstrip()) <= indent:
                break
            if stripped:
                end = i
        return end

    def _indent_step(self, path: Path) -> int:
        """Spaces per nesting level below `path`'s mapping (from the file itself; 2 if it can't tell)."""
        node = self._node(path)
        for key in node:
            child = node[key]
            if isinstance(child, CommentedMap) and child and not child.fa.flow_style():
                step = child.lc.key(next(iter(child)))[1] - node.lc.key(key)[1]
                if step > 0:
                    return step
        return 2

    def set(self, path: Path, value: Any) -> None:
        """Give `path` the value `value` (a scalar, or a mapping of scalars), creating missing mappings."""
        for depth in range(len(path) - 1, -1, -1):
            parent = self._node(path[:depth])
            if isinstance(parent, CommentedMap):
                break
        else:
            raise YamlEditError("the document is not a mapping")
        if depth < len(path) - 1:
            for part in reversed(path[depth + 1:]):
                value = {part: value}
            self._insert(path[:depth], path[depth], value)
            return
        node = self._block_map(path[:-1])
        key = path[-1]
        if key in node and not isinstance(node[key], (CommentedMap, CommentedSeq)) and not isinstance(value, dict):
            self._replace_scalar(node, key, value)
        else:
            if key in node:
                self.delete(path, prune=False)
            self._insert(path[:-1], key, value)

    def _replace_scalar(self, node: CommentedMap, key: str, value: Any) -> None:
        line_no, col = node.lc.value(key)
        if line_no != node.lc.key(key)[0]:
            raise YamlEditError(f"`{key}` has its value on another line: edit it by hand")
        line = self.lines[line_no]
        rest = line[col:]
        if rest[:1] in ("|", ">", "&", "*", "!"):
            raise YamlEditError(f"`{key}` is a block scalar, anchor or tagged value: edit it by hand")
        end = _scalar_end(rest)
        self.lines[line_no] = line[:col] + plain_scalar(value) + rest[end:]
        self._reload()

    def _insert(self, parent: Path, key: str, value: Any) -> None:
        node = self._block_map(parent)
        step = self._indent_step(parent)
        if node:
            indent = node.lc.key(next(iter(node)))[1]
            after = self._end_line(node, list(node)[-1])
        else:
            raise YamlEditError(f"`{'.'.join(parent)}` is empty: edit it by hand")
        block = _block(key, value, indent, step)
        self.lines[after + 1:after + 1] = block
        self._reload()

    def delete(self, path: Path, prune: bool = True) -> None:
        """Remove `path`'s entry (all its lines). With `prune`, a mapping left empty goes too."""
        node = self._block_map(path[:-1])
        key = path[-1]
        if key not in node:
            return
        if prune and len(node) == 1 and len(path) > 2:
            self.delete(path[:-1])
            return
        start = node.lc.key(key)[0]
        end = self._end_line(node, key)
        del self.lines[start:end + 1]
        self._reload()


def _scalar_end(rest: str) -> int:
    """Where the scalar at the start of `rest` ends (before a trailing comment or the newline)."""
    if rest.startswith('"'):
        i = 1
        while i < len(rest):
            if rest[i] == "\\":
                i += 2
                continue
            if rest[i] == '"':
                return i + 1
            i += 1
        return len(rest.rstrip("\n"))
    if rest.startswith("'"):
        i = 1
        while i < len(rest):
            if rest[i] == "'":
                if rest[i + 1:i + 2] == "'":
                    i += 2
                    continue
                return i + 1
            i += 1
        return len(rest.rstrip("\n"))
    match = re.search(r"\s+#|\s*\n|\s*$", rest)
    return match.start() if match else len(rest)


def _block(key: str, value: Any, indent: int, step: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        lines = [f"{pad}{plain_scalar(key)}:\n"]
        for k, v in value.items():
            lines += _block(k, v, indent + step, step)
        return lines
    return [f"{pad}{plain_scalar(key)}: {plain_scalar(value)}\n"]
