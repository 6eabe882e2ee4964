"""Markdown -> safe HTML, the one way every app turns user text into HTML.

Rendering happens once, when text is written; the result is stored beside the source and
templates mark only that stored value safe.

Three layers, each enough on its own for most attacks:
1. Python-Markdown with its raw-HTML handling removed, so `<script>` typed by anyone is text.
2. Fenced code is pulled out before Markdown touches whitespace and highlighted by Pygments
   (class-based, no inline styles), so code keeps every character, tab and blank line.
3. bleach with a strict allow-list of tags, attributes and URL schemes; links get
   rel="nofollow noopener noreferrer" and bare URLs become links.
"""

import re
import secrets
from functools import partial

import bleach
import markdown
from bleach.linkifier import LinkifyFilter, build_url_re
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "del",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "kbd",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "abbr": ["title"],
    "img": ["src", "alt", "title"],
    "div": ["class"],
    "span": ["class"],
    "code": ["class"],
    "pre": ["class"],
    "td": ["align"],
    "th": ["align"],
    "h1": ["id"],
    "h2": ["id"],
    "h3": ["id"],
    "h4": ["id"],
    "h5": ["id"],
    "h6": ["id"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
_SAFE_CLASS = re.compile(r"^[a-zA-Z0-9_\- ]{0,80}$")

_FENCE = re.compile(r"^(?P<indent>[ ]{0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w#+.\-]*)[^\n]*$")
_FORMATTER = HtmlFormatter(cssclass="highlight", wrapcode=True, nowrap=False)


def _highlight(code: str, lang: str) -> str:
    try:
        lexer = get_lexer_by_name(lang, stripnl=False, ensurenl=False) if lang else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        lexer = TextLexer(stripnl=False, ensurenl=False)
    html = highlight(code, lexer, _FORMATTER)
    label = f'<div class="code-lang">{bleach.clean(lang)}</div>' if lang else ""
    return f'<div class="codeblock">{label}{html}</div>'


class _FencedCodePreprocessor(Preprocessor):
    """Takes fenced code out before Markdown normalises whitespace (expands tabs etc.)."""

    def __init__(self, md, blocks):
        super().__init__(md)
        self.blocks = blocks

    def run(self, lines):
        out, i = [], 0
        while i < len(lines):
            m = _FENCE.match(lines[i])
            if not m:
                out.append(lines[i])
                i += 1
                continue
            fence = m.group("fence")
            closing = re.compile(rf"^[ ]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
            body, j = [], i + 1
            while j < len(lines) and not closing.match(lines[j]):
                body.append(lines[j])
                j += 1
            if j == len(lines) and not body:
                out.append(lines[i])
                i += 1
                continue
            code = "\n".join(body)
            # Markdown's own stash markers are stripped by its whitespace normaliser, which
            # runs after this; a plain token survives it and is swapped in afterwards.
            token = f"frontlinecode{secrets.token_hex(8)}"
            self.blocks[token] = _highlight(code, m.group("lang").lower())
            out.extend(["", token, ""])
            i = j + 1
        return out


class _StashCodePreprocessor(Preprocessor):
    def __init__(self, md, blocks):
        super().__init__(md)
        self.blocks = blocks

    def run(self, lines):
        return [
            self.md.htmlStash.store(self.blocks[line]) if line in self.blocks else line
            for line in lines
        ]


MAX_LINK_BRACKETS = 300


class _BracketGuardPreprocessor(Preprocessor):
    """Python-Markdown's link matching is super-linear in the number of `[` (upstream issue
    #798): 8,000 of them take 20 s. Past a few hundred, brackets are escaped and shown as
    typed, so one message cannot tie up a worker. Code blocks are already taken out."""

    def run(self, lines):
        if sum(line.count("[") for line in lines) <= MAX_LINK_BRACKETS:
            return lines
        return [line.replace("\\", "\\\\").replace("[", "\\[") for line in lines]


class _SafeMarkdown(Extension):
    def extendMarkdown(self, md):  # noqa: N802  (Markdown's API name)
        # Raw HTML in the source is shown as text, never passed through.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        blocks: dict[str, str] = {}
        md.preprocessors.register(_FencedCodePreprocessor(md, blocks), "frontline_fenced", 35)
        md.preprocessors.register(_BracketGuardPreprocessor(md), "frontline_brackets", 34)
        md.preprocessors.register(_StashCodePreprocessor(md, blocks), "frontline_stash", 29)


def _filter_attributes(tag, name, value):
    allowed = ALLOWED_ATTRIBUTES.get(tag, [])
    if name not in allowed:
        return False
    if name == "class":
        return bool(_SAFE_CLASS.match(value))
    if name == "id":
        return bool(re.match(r"^[a-z0-9\-_]{1,80}$", value))
    return True


def _link_rel(attrs, new=False):
    href_key = (None, "href")
    if href_key not in attrs:
        return attrs
    attrs[(None, "rel")] = "nofollow noopener noreferrer"
    return attrs


_URL_RE = build_url_re(protocols=ALLOWED_PROTOCOLS)

_CLEANER = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_filter_attributes,
    protocols=ALLOWED_PROTOCOLS,
    strip=False,
    strip_comments=True,
    filters=[
        # Linkify runs after sanitising, so its hrefs never meet `protocols`; left to its
        # default it links data:, ssh:, feed: and twenty other schemes.
        partial(
            LinkifyFilter,
            callbacks=[_link_rel],
            skip_tags={"pre", "code"},
            parse_email=False,
            url_re=_URL_RE,
        )
    ],
)


def _markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[_SafeMarkdown(), "tables", "sane_lists", "toc"],
        extension_configs={
            "toc": {"permalink": False, "slugify": _slugify},
            # `align` survives the sanitiser; the default inline `style` would not.
            "tables": {"use_align_attribute": True},
        },
        output_format="html",
    )


def _slugify(value, separator):
    """ASCII ids (the sanitiser allows only those); headings without ASCII letters get a hash."""
    import hashlib
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9\s-]", "", ascii_text.lower()).strip()
    slug = re.sub(r"[\s_-]+", separator, slug)[:70].strip("-")
    return "h-" + (slug or hashlib.sha256(value.encode()).hexdigest()[:8])


def render(text: str) -> str:
    """Return safe HTML for Markdown `text`. Deterministic; call it once, when text is saved."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    html = _markdown().convert(text)
    return _CLEANER.clean(html)


def render_with_toc(text: str) -> tuple[str, list[dict]]:
    """Like render(), and also return the headings as a table of contents."""
    if not text:
        return "", []
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    md = _markdown()
    html = md.convert(text)
    import html as _html

    toc = [
        {"id": t["id"], "name": _html.unescape(t["name"]), "level": t["level"]}
        for t in _flatten(md.toc_tokens)
    ]
    return _CLEANER.clean(html), toc


def _flatten(tokens):
    for token in tokens:
        yield token
        yield from _flatten(token.get("children", []))


def pygments_css() -> str:
    """Stylesheet for highlighted code, light and dark."""
    light = HtmlFormatter(style="default").get_style_defs(".highlight")
    dark = HtmlFormatter(style="monokai").get_style_defs(".highlight")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


# Characters the sanitiser changes (to "?", mostly): C0 controls but tab, newline and CR.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Where the sanitiser splits text into separate tokens (what escaping turns into entities).
_TOKEN_BREAKS = re.compile("[\"'<>&]")


# A private-use character that stands in for "&" while the sanitiser runs (see render_plain).
_AMP = "\ue0a6"


def _may_link(text: str) -> bool:
    """Whether the linkifier could find a URL in `text`, read whole or split where it splits."""
    return bool(_URL_RE.search(text) or _URL_RE.search(_TOKEN_BREAKS.sub("\n", text)))


def _plain_html(text: str) -> str:
    """Escaped paragraphs and line breaks, before linking and sanitising."""
    import html as _html

    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd").strip("\n")
    paragraphs = re.split(r"\n{2,}", text)
    return "".join("<p>" + _html.escape(p).replace("\n", "<br>\n") + "</p>\n" for p in paragraphs)


def render_plain(text: str) -> str:
    """Plain text (an email body) as safe HTML: escaped, paragraphs and line breaks kept,
    URLs linked. Email is not Markdown: `*`, `_` and indentation must stay as written.

    Text with nothing the linkifier could link and no control characters skips the sanitiser,
    which returns such escaped text unchanged (tests/helpdesk/test_markup.py checks that both
    ways give the same HTML); it was a sixth of each inbound email's cost."""
    if not text:
        return ""
    if not _may_link(text) and not _INVISIBLE.search(text):
        return _plain_html(text)
    return _sanitised_plain(text)


def _sanitised_plain(text: str) -> str:
    """render_plain through the linkifier and sanitiser (what the shortcut must equal)."""
    if _AMP in text:
        return _CLEANER.clean(_plain_html(text))
    # The sanitiser reads an escaped "&" followed by "lt;" as the entity "&lt;" again, so a
    # typed "&lt;" would show as "<": "&" travels through it as a stand-in instead.
    return _CLEANER.clean(_plain_html(text.replace("&", _AMP))).replace(_AMP, "&amp;")
