"""A readable diff between two revisions: the changed fields, then the Markdown line by line
with the changed words marked inside changed lines.

Plain difflib; the result is data (text pieces and flags), and the template escapes every
piece, so nothing an author typed can become markup on the history page.
"""

import difflib
import re

CONTEXT_LINES = 3
# Word-level marking is for lines people read; very long lines are shown whole.
MAX_WORD_DIFF_LINE = 2000
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)

FIELDS = (
    ("title", "Title"),
    ("summary", "Summary"),
    ("category_name", "Category"),
    ("tags", "Tags"),
    ("versions", "Applies to"),
    ("visibility", "Visibility"),
    ("status", "Status"),
)


def field_changes(old, new) -> list[dict]:
    """[{label, old, new}] for the revision fields other than the body that differ."""
    changes = []
    for name, label in FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if name in ("visibility", "status"):
            before = getattr(old, f"get_{name}_display")()
            after = getattr(new, f"get_{name}_display")()
        if before != after:
            changes.append({"field": name, "label": label, "old": before, "new": after})
    return changes


def _segments(tokens, opcodes, side):
    """Merge tokens into [(text, changed)] runs for one side ("old" or "new")."""
    out = []
    for tag, i1, i2, j1, j2 in opcodes:
        piece = "".join(tokens[i1:i2] if side == "old" else tokens[j1:j2])
        if not piece:
            continue
        changed = tag != "equal"
        if out and out[-1][1] == changed:
            out[-1] = (out[-1][0] + piece, changed)
        else:
            out.append((piece, changed))
    return out


def _word_diff(old_line: str, new_line: str):
    if len(old_line) > MAX_WORD_DIFF_LINE or len(new_line) > MAX_WORD_DIFF_LINE:
        return [(old_line, True)], [(new_line, True)]
    a, b = _TOKEN.findall(old_line), _TOKEN.findall(new_line)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    opcodes = matcher.get_opcodes()
    # How much of the words survived (spaces always match, so they do not count).
    kept = sum(
        len("".join(a[i1:i2]).replace(" ", ""))
        for tag, i1, i2, _j1, _j2 in opcodes
        if tag == "equal"
    )
    total = len(old_line.replace(" ", "")) + len(new_line.replace(" ", ""))
    if total and 2 * kept / total < 0.4:
        # Mostly rewritten: marking scattered common words would be noise.
        return [(old_line, True)], [(new_line, True)]
    return _segments(a, opcodes, "old"), _segments(b, opcodes, "new")


def line_diff(old_text: str, new_text: str, *, context: int = CONTEXT_LINES) -> dict:
    """Hunks of rows {kind: same|del|add, old_no, new_no, segments: [(text, changed)]},
    with the numbers of added and removed lines."""
    a = (old_text or "").replace("\r\n", "\n").split("\n")
    b = (new_text or "").replace("\r\n", "\n").split("\n")
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=len(a) + len(b) > 4000)
    hunks, added, removed = [], 0, 0
    for group in matcher.get_grouped_opcodes(context):
        if all(op[0] == "equal" for op in group):
            continue  # identical texts still yield one group of context
        rows = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [
                    {"kind": "same", "old_no": i + 1, "new_no": j + 1, "segments": [(a[i], False)]}
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            removed += i2 - i1
            added += j2 - j1
            old_rows, new_rows = [], []
            pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            for k in range(i2 - i1):
                segments = [(a[i1 + k], True)]
                if k < pairs:
                    segments, paired = _word_diff(a[i1 + k], b[j1 + k])
                    new_rows.append(
                        {"kind": "add", "old_no": None, "new_no": j1 + k + 1, "segments": paired}
                    )
                old_rows.append(
                    {"kind": "del", "old_no": i1 + k + 1, "new_no": None, "segments": segments}
                )
            for k in range(pairs, j2 - j1):
                new_rows.append(
                    {
                        "kind": "add",
                        "old_no": None,
                        "new_no": j1 + k + 1,
                        "segments": [(b[j1 + k], True)],
                    }
                )
            rows += old_rows + new_rows
        first = group[0]
        hunks.append(
            {
                "header": f"@@ −{first[1] + 1} +{first[3] + 1} @@",
                "rows": rows,
            }
        )
    return {"hunks": hunks, "added": added, "removed": removed}


def compare(old, new) -> dict:
    """Everything the diff page shows for two revisions."""
    body = line_diff(old.body, new.body)
    return {"fields": field_changes(old, new), **body, "same_body": not body["hunks"]}
