"""Render an offline diff (`ops/diff/model.py`, computed by `ops/diff/plans.py`) for a terminal or as a pull-request comment."""

from __future__ import annotations

import json
from typing import Any

from ops.diff.compare import as_written
from ops.diff.graph import cascade_graph
from ops.diff.model import Diff, ResourceChange, short_urn
from ops.plan.urns import is_top_level, leaf_type, name_of

MARKER = "<!-- floyo-diff:{stack} -->"
"""First line of the markdown body: the PR workflow finds a stack's comment by this exact line."""

GITHUB_COMMENT_LIMIT = 65536
"""GitHub's maximum issue/PR comment body, in characters."""

DEFAULT_MAX_CHARS = 60000
"""Default budget of `--format markdown`: below GitHub's limit with room to spare."""

VALUE_CHARS = 240
"""Longest rendering of one before/after value; longer values are shortened with "..."."""

SYMBOL = {"add": "+", "remove": "-", "change": "~"}


def _value(value: Any) -> str:
    if value is None:
        return "(absent)"
    text = json.dumps(as_written(value), sort_keys=True)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS - 3] + "..."


def _component(parent: str) -> str:
    """`urn:...$floyo:backend:BackendService::backend` -> `floyo:backend:BackendService backend`."""
    return "(stack)" if is_top_level(parent) else f"{leaf_type(parent)} {name_of(parent)}"


def _counts(diff: Diff) -> str:
    replaced = sum(1 for c in diff.of_kind("change") if c.replaced)
    text = (f"{len(diff.of_kind('add'))} to add, {len(diff.of_kind('change'))} to change, "
            f"{len(diff.of_kind('remove'))} to remove")
    return text + (f" ({replaced} replaced)" if replaced else "")


def _type_counts(diff: Diff) -> list[str]:
    """One line per resource type with changes: `aws:ec2/subnet:Subnet: ~6 (6 replaced)`."""
    lines = []
    for token, count in diff.counts_by_type().items():
        parts = [f"{SYMBOL[k]}{count[k]}" for k in ("add", "change", "remove") if count[k]]
        extra = [f"{count['replace']} replaced"] if count["replace"] else []
        extra += [f"{count['danger']} dangerous"] if count["danger"] else []
        lines.append(f"{token}: {' '.join(parts)}" + (f" ({', '.join(extra)})" if extra else ""))
    return lines


def _resource_lines(change: ResourceChange) -> list[str]:
    if change.dangerous:
        flag = "  [DANGEROUS: " + change.danger_reason() + "]"
    elif change.replaced:
        flag = "  [" + change.replacement_reason() + "]"
    else:
        flag = f"  [{change.note}]" if change.note and change.note != "deleted" else ""
    lines = [f"{SYMBOL[change.kind]} {change.type}  {change.name}{flag}"]
    if change.renamed_from:
        lines.append(f"    (looks like a rename of {change.renamed_from}: delete + create, not a move)")
    for prop in change.properties:
        lines.append(f"    {prop.path}: {_value(prop.before)} -> {_value(prop.after)}")
    return lines


def _grouped(diff: Diff) -> dict[str, list[ResourceChange]]:
    groups: dict[str, list[ResourceChange]] = {}
    for change in sorted(diff.changes, key=lambda c: (not c.dangerous, c.kind != "remove", c.kind != "change")):
        groups.setdefault(_component(change.parent), []).append(change)
    return groups


def _base_failed(diff: Diff) -> list[str]:
    total = sum(diff.head_types.values())
    lines = [f"base could not be planned: {diff.base_error}",
             "No danger check was possible; the working tree plans fine. Its plan declares "
             f"{total} resource(s):"]
    return lines + [f"  {token}: {n}" for token, n in diff.head_types.items()]


def render_text(diff: Diff) -> str:
    """The diff for a terminal: dangerous changes first, then each component's changes."""
    lines = [f"offline diff of stack '{diff.stack}': {diff.base} -> working tree"]
    if diff.base_note:
        lines.append(f"note: {diff.base_note}")
    if diff.base_error:
        return "\n".join([*lines, *_base_failed(diff)])
    if diff.empty:
        lines.append("no changes")
        return "\n".join(lines)
    lines.append(_counts(diff))
    lines += ["  " + line for line in _type_counts(diff)]
    if diff.dangerous:
        lines.append("")
        lines.append(f"DANGEROUS ({len(diff.dangerous)}): data, traffic or a safety at stake")
        lines += [f"  ! {c.type}  {c.name}: {c.danger_reason()}" for c in diff.dangerous]
    lines += _cost_text(diff)  # next to the dangers: the money, and its flag over cost.diff_flag_usd
    lines += _knock_on_lines(diff)
    for component, changes in _grouped(diff).items():
        lines.append("")
        lines.append(f"{component}:")
        for change in changes:
            lines += ["  " + line for line in _resource_lines(change)]
    if diff.outputs:
        lines.append("")
        lines.append("outputs:")
        lines += [f"  ~ {p.path}: {_value(p.before)} -> {_value(p.after)}" for p in diff.outputs]
    return "\n".join(lines)


def _cost_text(diff: Diff) -> list[str]:
    from ops.cost.delta import text_lines

    return text_lines(diff.cost) if diff.cost else ([f"note: {diff.cost_note}"] if diff.cost_note else [])


def _cost_markdown(diff: Diff) -> list[str]:
    from ops.cost.delta import markdown_lines

    return markdown_lines(diff.cost) if diff.cost else (["", f"_{diff.cost_note}_"] if diff.cost_note else [])


def _knock_on_lines(diff: Diff) -> list[str]:
    """Kept resources updated in place because an input reads a replaced or removed resource."""
    if not diff.knock_on:
        return []
    lines = ["", f"UPDATED IN PLACE because an input reads a replaced or removed resource ({len(diff.knock_on)}; "
                 "the new values are known at apply time only):"]
    for change in diff.knock_on.values():
        reads = change.reads_replaced
        assert reads is not None
        lines.append(f"  ~ {change.type}  {change.name}  [`{reads.input}` reads {short_urn(reads.source)}]")
    return lines


def _fence(lines: list[str]) -> str:
    body = "\n".join(lines).replace("```", "`\u200b``")
    return f"```diff\n{body}\n```"


def _block(summary: str, lines: list[str]) -> str:
    return f"<details><summary>{summary}</summary>\n\n{_fence(lines)}\n\n</details>"


def _fit_block(summary: str, lines: list[str], room: int) -> str | None:
    """The block with as many of its first lines as fit in `room` characters, and a note of the lines cut."""
    for keep in range(len(lines) - 1, 0, -1):
        block = _block(summary + " (cut)", [*lines[:keep], f"... {len(lines) - keep} more line(s) cut to fit"])
        if len(block) <= room:
            return block
    return None


def render_markdown(diff: Diff, max_chars: int = DEFAULT_MAX_CHARS, command: str = "") -> str:
    """A PR comment body: marker line, summary, counts per type, dangerous list, then a folded block per component.

    Never longer than `max_chars`: the first block that does not fit is cut line by line, the
    blocks after it are dropped (and the dangerous list shortened if it alone is too long), with a
    note saying what was cut and the budget that applied."""
    marker = MARKER.format(stack=diff.stack)
    head = [marker, f"### Offline diff: `{diff.stack}`", "",
            f"Desired state at `{diff.base}` -> this change, planned offline (no cloud calls)."]
    if diff.base_note:
        head.append(f"_Note: {diff.base_note}_")
    head.append("")
    if diff.base_error:
        failed = _base_failed(diff)
        body = [f"> [!WARNING]\n> **{failed[0]}**", "", failed[1], "", *[f"- `{line.strip()}`" for line in failed[2:]]]
        return "\n".join([*head, *body])[:max_chars]
    if diff.empty:
        return "\n".join([*head, "**No changes.**"])[:max_chars]
    head.append(f"**{_counts(diff)}**" + (f", {len(diff.outputs)} output(s) changed" if diff.outputs else ""))
    head += ["", "<details><summary>Changes per resource type</summary>", "",
             *[f"- `{line}`" for line in _type_counts(diff)], "", "</details>"]
    head += _cost_markdown(diff)  # bounded (30 rows): kept whole when the rest is cut to fit
    danger = diff.dangerous
    if danger:
        danger_lines = ["", f"> [!CAUTION]\n> **{len(danger)} dangerous change(s)**: data, user traffic or a "
                            "safety at stake. Check before merging.", ""]
        danger_lines += [f"- :warning: `{c.type}` **{c.name}**: {c.danger_reason()}" for c in danger]
    else:
        danger_lines = ["", "No dangerous change: nothing holding data or carrying traffic is deleted or replaced."]
    graph = cascade_graph(diff)
    graph_lines: list[str] = []
    if graph is not None:
        graph_lines = ["", "#### What this change replaces or deletes, and what follows from it", "",
                         "Red: dangerous; orange: replaced; grey: deleted; blue, dashed: updated in place because an "
                         "input reads a replaced resource. Arrows point from a resource to what depends on it.",
                         "", f"```mermaid\n{graph}\n```"]
    blocks: list[tuple[str, list[str]]] = []
    if diff.knock_on:
        blocks.append((f"Updated in place because of a replacement: {len(diff.knock_on)} resource(s)",
                       _knock_on_lines(diff)[2:]))
    for component, changes in _grouped(diff).items():
        lines: list[str] = []
        for change in changes:
            lines += _resource_lines(change)
        mark = " :warning:" if any(c.dangerous for c in changes) else ""
        blocks.append((f"<code>{component}</code>: {len(changes)} resource(s){mark}", lines))
    if diff.outputs:
        blocks.append((f"Stack outputs: {len(diff.outputs)}",
                       [f"~ {p.path}: {_value(p.before)} -> {_value(p.after)}" for p in diff.outputs]))
    rendered = [_block(summary, lines) for summary, lines in blocks]
    footer_text = ("<sub>Replacement is inferred from a table of replace-forcing inputs per type "
                   "(`ops/diff/replacement.py`); `pulumi preview --diff` is the authority."
                   + (f" Full diff: `{command}`." if command else "") + "</sub>")

    def cut_note(shown: int, partial: bool) -> str:
        if shown == len(blocks) and not partial:
            return ""
        whole = len(blocks) - shown - (1 if partial else 0)
        return (f"**Truncated:** this comment is cut to its budget of {max_chars} characters (`--max-chars`; "
                f"GitHub's limit is {GITHUB_COMMENT_LIMIT}): " + ("one block is cut short, " if partial else "")
                + f"{whole} of {len(blocks)} detail block(s) not shown."
                + (f" Run `{command}` for everything." if command else ""))

    def assemble(d_lines: list[str], kept: list[str], note: str) -> str:
        parts = [*head, *d_lines, "", *kept]
        if note:
            parts += ["", note]
        return "\n".join([*parts, "", footer_text])

    def fill(d_lines: list[str]) -> str:
        kept: list[str] = []
        for i, block in enumerate(rendered):
            if len(assemble(d_lines, [*kept, block], cut_note(i + 1, False))) <= max_chars:
                kept.append(block)
                continue
            room = max_chars - len(assemble(d_lines, [*kept, ""], cut_note(i, True)))
            partial = _fit_block(blocks[i][0], blocks[i][1], room)
            if partial is not None:
                return assemble(d_lines, [*kept, partial], cut_note(i, True))
            return assemble(d_lines, kept, cut_note(i, False))
        return assemble(d_lines, kept, "")

    body = fill([*danger_lines, *graph_lines])
    shown = len(danger)
    while len(body) > max_chars and shown > 0:
        shown = shown // 2
        listed = [*danger_lines[:3 + shown],
                  f"- ... and {len(danger) - shown} more dangerous change(s), not listed to fit the limit"]
        body = fill([*listed, *graph_lines])
    if len(body) > max_chars and graph_lines:  # the picture alone is over the budget: the lists matter more
        body = fill([*danger_lines[:3], f"- ... and {len(danger)} more dangerous change(s), not listed to fit the limit",
                     "", "_The picture of the cascade is left out to fit the limit._"])
    return body[:max_chars]
