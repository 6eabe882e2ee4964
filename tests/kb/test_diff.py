"""The revision diff: line numbers, changed words, and nothing rendered as markup."""

from types import SimpleNamespace

from kb.diff import compare, field_changes, line_diff


def rows(diff):
    return [row for hunk in diff["hunks"] for row in hunk["rows"]]


def test_identical_texts_have_no_hunks():
    assert line_diff("a\nb", "a\nb") == {"hunks": [], "added": 0, "removed": 0}


def test_changed_words_are_marked_inside_a_changed_line():
    diff = line_diff("one\ntwo\nOpen tray 2 gently.\nend", "one\ntwo\nOpen tray 3 gently.\nend")
    assert (diff["added"], diff["removed"]) == (1, 1)
    changed = [r for r in rows(diff) if r["kind"] != "same"]
    assert [r["kind"] for r in changed] == ["del", "add"]
    assert changed[0]["segments"] == [("Open tray ", False), ("2", True), (" gently.", False)]
    assert changed[1]["segments"] == [("Open tray ", False), ("3", True), (" gently.", False)]
    assert (changed[0]["old_no"], changed[1]["new_no"]) == (3, 3)


def test_rewritten_lines_are_marked_whole_not_word_by_word():
    diff = line_diff("The quick brown fox", "A completely different sentence here")
    assert [r["segments"] for r in rows(diff)] == [
        [("The quick brown fox", True)],
        [("A completely different sentence here", True)],
    ]


def test_far_apart_changes_make_separate_hunks_with_context():
    old = "\n".join(f"line {i}" for i in range(1, 31))
    new = old.replace("line 2\n", "line two\n").replace("line 28", "line twenty-eight")
    diff = line_diff(old, new)
    assert len(diff["hunks"]) == 2
    assert diff["hunks"][0]["header"].startswith("@@ −1 +1")
    kinds = [r["kind"] for r in diff["hunks"][1]["rows"]]
    assert kinds.count("same") == 5  # three lines of context before, two after (end of text)


def test_added_and_removed_lines_keep_their_numbers():
    diff = line_diff("a\nb\nc", "a\nc\nd")
    changed = [(r["kind"], r["old_no"], r["new_no"]) for r in rows(diff) if r["kind"] != "same"]
    assert changed == [("del", 2, None), ("add", None, 3)]


def test_markup_in_the_text_stays_text_for_the_template_to_escape():
    diff = line_diff("safe", "<script>alert(1)</script>")
    assert rows(diff)[-1]["segments"][0][0] == "<script>alert(1)</script>"


def revision(**kw):
    base = {
        "title": "T",
        "summary": "",
        "category_name": "Docs",
        "tags": "a",
        "versions": "",
        "visibility": "public",
        "status": "draft",
        "body": "x",
    }
    base.update(kw)
    ns = SimpleNamespace(**base)
    ns.get_visibility_display = lambda: ns.visibility.title()
    ns.get_status_display = lambda: ns.status.title()
    return ns


def test_field_changes_list_only_what_changed_with_display_names():
    changes = field_changes(revision(), revision(title="T2", status="published"))
    assert changes == [
        {"field": "title", "label": "Title", "old": "T", "new": "T2"},
        {"field": "status", "label": "Status", "old": "Draft", "new": "Published"},
    ]


def test_compare_reports_an_unchanged_body():
    result = compare(revision(), revision(status="published"))
    assert result["same_body"] is True and len(result["fields"]) == 1
