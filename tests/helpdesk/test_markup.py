"""markup.render: code keeps every character, typed HTML stays text, and nothing can run."""

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from forum import services as forum_services
from forum.models import Category
from helpdesk import markup
from helpdesk.markup import render, render_with_toc
from tickets import services as ticket_services
from tickets.models import Message

REL = "nofollow noopener noreferrer"


class ParsedHtml(HTMLParser):
    """What a browser would build from the output: real tags with their attributes, and text.

    Text is kept as written (entities and all) and unescaped once at the end, so `&amp;amp;`
    in the output reads as `&amp;`, exactly as a browser shows it.
    """

    def __init__(self, source):
        super().__init__(convert_charrefs=False)
        self.tags = []  # (tag, [(name, value), ...]) for every real start tag
        self.other_markup = []  # comments, doctypes, CDATA, processing instructions
        self._text = []
        self._pre = []  # raw text of each <pre>, in order
        self._pre_depth = 0
        self.feed(source)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        if tag == "pre":
            if self._pre_depth == 0:
                self._pre.append([])
            self._pre_depth += 1

    def handle_endtag(self, tag):
        if tag == "pre" and self._pre_depth:
            self._pre_depth -= 1

    def _add_text(self, raw):
        self._text.append(raw)
        if self._pre_depth:
            self._pre[-1].append(raw)

    def handle_data(self, data):
        self._add_text(data)

    def handle_entityref(self, name):
        self._add_text(f"&{name};")

    def handle_charref(self, name):
        self._add_text(f"&#{name};")

    def handle_comment(self, data):
        self.other_markup.append(("comment", data))

    def handle_decl(self, decl):
        self.other_markup.append(("decl", decl))

    def unknown_decl(self, data):
        self.other_markup.append(("unknown_decl", data))

    def handle_pi(self, data):
        self.other_markup.append(("pi", data))

    @property
    def text(self):
        return html.unescape("".join(self._text))

    @property
    def pre_texts(self):
        return [html.unescape("".join(parts)) for parts in self._pre]

    def tags_named(self, name):
        return [dict(attrs) for tag, attrs in self.tags if tag == name]


FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "style",
    "form",
    "input",
    "base",
    "meta",
    "link",
    "body",
    "video",
    "audio",
    "source",
    "details",
    "button",
    "textarea",
    "template",
    "noscript",
    "frame",
    "frameset",
    "applet",
    "marquee",
    "isindex",
    "keygen",
}
SAFE_SCHEMES = {"http", "https", "mailto"}
# Browsers drop ASCII whitespace and control characters from a URL before reading its scheme.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def url_scheme(value):
    squashed = _URL_NOISE.sub("", value or "").lower()
    match = re.match(r"^([a-z][a-z0-9+.\-]*):", squashed)
    return match.group(1) if match else None


def assert_inert(output):
    """Fail if the HTML holds anything that could run script, restyle the page or leave it."""
    doc = ParsedHtml(output)
    assert doc.other_markup == []
    for tag, attrs in doc.tags:
        assert tag not in FORBIDDEN_TAGS, f"real <{tag}> tag in {output!r}"
        assert tag in markup.ALLOWED_TAGS, f"unexpected <{tag}> tag in {output!r}"
        allowed_attrs = markup.ALLOWED_ATTRIBUTES.get(tag, [])
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler {name} on <{tag}> in {output!r}"
            assert name != "style", f"style attribute on <{tag}> in {output!r}"
            assert name in allowed_attrs, f"unexpected {name}= on <{tag}> in {output!r}"
            if name in ("href", "src"):
                squashed = _URL_NOISE.sub("", value or "").lower()
                assert not squashed.startswith(("javascript:", "vbscript:", "data:")), output
                scheme = url_scheme(value)
                assert scheme is None or scheme in SAFE_SCHEMES, f"{name}={value!r} in {output!r}"
    return doc


# ---------------------------------------------------------------------------------------------
# 1. Fenced code keeps every character
# ---------------------------------------------------------------------------------------------

PYTHON_TABS = (
    "def handler(event):\n"
    "\tif event:\n"
    "\t    return 1  # tab then four spaces\n"
    "  \telse:\n"
    "\t\treturn {'a': [1,\t2]}\n"
    "    \t\n"
    "\tpass"
)
MAKEFILE = (
    ".PHONY: all build\n"
    "all: build\n"
    "\n"
    "build: main.o\n"
    "\t$(CC) -o app main.o\n"
    '\t@echo "done"\t# trailing tab\t\n'
    "\n"
    "clean:\n"
    "\trm -f *.o app"
)
BLANK_LINES = "first = 1\n\n\n\n\nsecond = 2\n\n\nthird = 3"
TRAILING_SPACES = "x = 1   \ny = 2 \t \nz = 3  "
SPACE_ONLY_LINES = "start\n    \n  \n\t\n        \nend"
HTML_LOOKALIKES = (
    '<script>alert("x")</script>\n'
    "<img src=x onerror=alert(1)>\n"
    "&amp; &lt; &#39; &nbsp; &amp;amp;\n"
    "{{ user.name }} {% if staff %}{# note #}\n"
    "C:\\Users\\carla\\new \\\\server\\share \\n \\t \\\\"
)
UNICODE_TEXT = "naïve = 'Grüße, 日本語, Ελληνικά'\nemoji = '😀 👩‍👩‍👧 🏳️‍🌈'\nzero_width = 'a\u200bb'"
MARKDOWN_LOOKALIKES = (
    "# not a heading\n"
    "* not a list\n"
    "1. nor this\n"
    "[not](a link) ![nor](an image)\n"
    "    indented\n"
    "> not a quote\n"
    "---\n"
    "**bold** _em_ `tick` http://example.com\n"
    "| a | b |\n"
    "|---|---|\n"
    "[TOC]"
)
LEADING_AND_TRAILING_BLANKS = "\n\n    indented first line\nlast\n\n"


def fenced(code, lang="", fence="```"):
    return f"{fence}{lang}\n{code}\n{fence}"


CODE_CASES = [
    pytest.param(fenced(PYTHON_TABS, "python"), PYTHON_TABS, id="python-tabs-mixed-indent"),
    pytest.param(fenced(MAKEFILE, "makefile"), MAKEFILE, id="makefile-tab-recipes"),
    pytest.param(fenced(BLANK_LINES, "python"), BLANK_LINES, id="consecutive-blank-lines"),
    pytest.param(fenced(TRAILING_SPACES, "python"), TRAILING_SPACES, id="trailing-spaces"),
    pytest.param(fenced(SPACE_ONLY_LINES, "text"), SPACE_ONLY_LINES, id="space-only-lines"),
    pytest.param(fenced(HTML_LOOKALIKES, "html"), HTML_LOOKALIKES, id="html-in-html-block"),
    pytest.param(fenced(HTML_LOOKALIKES), HTML_LOOKALIKES, id="html-in-plain-block"),
    pytest.param(fenced(HTML_LOOKALIKES, "django"), HTML_LOOKALIKES, id="html-in-django-block"),
    pytest.param(fenced(UNICODE_TEXT, "python"), UNICODE_TEXT, id="unicode-and-emoji"),
    pytest.param(fenced(MARKDOWN_LOOKALIKES), MARKDOWN_LOOKALIKES, id="markdown-inside-code"),
    pytest.param(fenced(PYTHON_TABS, "python", "~~~"), PYTHON_TABS, id="tilde-fence"),
    pytest.param(fenced(MAKEFILE, "", "~~~~~"), MAKEFILE, id="long-tilde-fence"),
    pytest.param(
        fenced("Use this:\n```python\nprint('hi')\n```\n~~~\nstill code", "markdown", "````"),
        "Use this:\n```python\nprint('hi')\n```\n~~~\nstill code",
        id="four-backticks-around-three",
    ),
    pytest.param(
        fenced("````\ninner four\n````", "", "`````"),
        "````\ninner four\n````",
        id="five-backticks-around-four",
    ),
    pytest.param(fenced(BLANK_LINES, "no-such-language"), BLANK_LINES, id="unknown-language"),
    pytest.param(fenced(PYTHON_TABS), PYTHON_TABS, id="no-language"),
    pytest.param(fenced(PYTHON_TABS, "Python"), PYTHON_TABS, id="language-in-capitals"),
    pytest.param(fenced(PYTHON_TABS, " python {.extra}"), PYTHON_TABS, id="info-string-extras"),
    pytest.param(
        fenced(LEADING_AND_TRAILING_BLANKS, "python"),
        LEADING_AND_TRAILING_BLANKS,
        id="leading-and-trailing-blank-lines",
    ),
    pytest.param("   ```sh\n\techo $HOME\n   ```", "\techo $HOME", id="fence-indented-three"),
    pytest.param(
        "Intro with a\ttab.\n\n"
        + fenced(MAKEFILE, "make")
        + "\n\nAfter.\n\n"
        + fenced(BLANK_LINES),
        MAKEFILE,
        id="between-paragraphs",
    ),
]


@pytest.mark.parametrize(("source", "code"), CODE_CASES)
def test_fenced_code_keeps_every_character(source, code):
    output = render(source)

    doc = assert_inert(output)
    pre = doc.pre_texts
    assert pre, output
    # Pygments may add one newline at the end; nothing else may change.
    assert pre[0] in (code, code + "\n"), output


def test_two_code_blocks_each_keep_their_own_text():
    output = render(fenced(MAKEFILE, "make") + "\n\ntext\n\n" + fenced(BLANK_LINES, "python"))

    pre = ParsedHtml(output).pre_texts
    assert len(pre) == 2
    assert pre[0].rstrip("\n") == MAKEFILE
    assert pre[1].rstrip("\n") == BLANK_LINES


def test_code_that_looks_like_html_is_text_not_tags():
    doc = assert_inert(render(fenced(HTML_LOOKALIKES, "html")))

    assert doc.tags_named("script") == []
    assert doc.tags_named("img") == []
    assert "<script>" in doc.pre_texts[0]


def test_highlighting_uses_classes_and_labels_the_language():
    output = render(fenced("def f():\n    return 1", "python"))

    doc = assert_inert(output)
    classes = {dict(attrs).get("class") for _, attrs in doc.tags} - {None}
    assert {"codeblock", "code-lang", "highlight", "k", "nf"} <= classes
    assert output.startswith(
        '<div class="codeblock"><div class="code-lang">python</div><div class="highlight"><pre>'
    )


def test_unknown_language_is_plain_text_but_still_labelled():
    output = render(fenced("x = <y>", "no-such-language"))

    doc = assert_inert(output)
    assert doc.pre_texts[0].rstrip("\n") == "x = <y>"
    assert '<div class="code-lang">no-such-language</div>' in output
    # Nothing is highlighted: the only spans are Pygments' empty line anchor.
    assert all(not dict(attrs).get("class") for tag, attrs in doc.tags if tag == "span")
    assert doc.tags_named("div")[1] == {"class": "code-lang"}


def test_no_language_means_no_label():
    doc = assert_inert(render(fenced("x = 1")))

    assert {"class": "code-lang"} not in doc.tags_named("div")


def test_unclosed_fence_runs_to_the_end_as_code():
    output = render("```python\nprint('a')\n\n\tprint('b')")

    assert ParsedHtml(output).pre_texts[0].rstrip("\n") == "print('a')\n\n\tprint('b')"


def test_indented_code_block_is_escaped():
    doc = assert_inert(render("Example:\n\n    <b>bold?</b> & more"))

    assert doc.tags_named("b") == []
    assert doc.pre_texts[0] == "<b>bold?</b> & more\n"


def test_inline_code_keeps_its_text():
    doc = assert_inert(render("Run `rm -rf <dir> && echo '{{ x }}'` now"))

    assert doc.tags_named("code") == [{}]
    assert "rm -rf <dir> && echo '{{ x }}'" in doc.text


# ---------------------------------------------------------------------------------------------
# 2. Known XSS vectors come out inert
# ---------------------------------------------------------------------------------------------

XSS_VECTORS = [
    # Raw tags
    pytest.param("<script>alert(1)</script>", id="script"),
    pytest.param("<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>", id="script-src-caps"),
    pytest.param("<scr<script>ipt>alert(1)</scr</script>ipt>", id="script-split"),
    pytest.param("<script>alert(1)", id="script-unclosed"),
    pytest.param("<img src=x onerror=alert(1)>", id="img-onerror"),
    pytest.param("<img src=x onerror=alert(1)//", id="img-unclosed"),
    pytest.param("<IMG SRC=\"javascript:alert('XSS');\">", id="img-src-javascript"),
    pytest.param("<img src=x OnErRoR=alert(1)>", id="onerror-mixed-case"),
    pytest.param("<img/src=x/onerror=alert(1)>", id="img-slash-separators"),
    pytest.param("<svg onload=alert(1)>", id="svg-onload"),
    pytest.param("<svg><script>alert(1)</script></svg>", id="svg-script"),
    pytest.param('<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>', id="svg-a"),
    pytest.param("<svg><animate onbegin=alert(1) attributeName=x dur=1s>", id="svg-animate"),
    pytest.param("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", id="math-mxss"),
    pytest.param('<math href="javascript:alert(1)">CLICK</math>', id="math-href"),
    pytest.param(
        '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
        id="math-maction",
    ),
    pytest.param('<iframe src="javascript:alert(1)"></iframe>', id="iframe"),
    pytest.param('<iframe srcdoc="<script>alert(1)</script>"></iframe>', id="iframe-srcdoc"),
    pytest.param('<object data="javascript:alert(1)"></object>', id="object"),
    pytest.param(
        '<embed src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">', id="embed"
    ),
    pytest.param('<form action="javascript:alert(1)"><button>go</button></form>', id="form"),
    pytest.param('<a href="javascript:alert(1)">click</a>', id="a-javascript"),
    pytest.param('<a href="&#14;javascript:alert(1)">click</a>', id="a-control-char"),
    pytest.param('<a href="http://example.com" onclick="alert(1)">x</a>', id="a-onclick"),
    pytest.param("<style>body{background:url(javascript:alert(1))}</style>", id="style-tag"),
    pytest.param('<div style="width: expression(alert(1))">x</div>', id="style-expression"),
    pytest.param('<p style="position:fixed;top:0;left:0">overlay</p>', id="style-attr"),
    pytest.param('<base href="javascript:alert(1)//">', id="base"),
    pytest.param('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', id="meta"),
    pytest.param('<link rel="stylesheet" href="javascript:alert(1)">', id="link"),
    pytest.param('<div onmouseover="alert(1)">hover</div>', id="div-onmouseover"),
    pytest.param("<b ONCLICK=alert(1)>x</b>", id="onclick-caps"),
    pytest.param("<p oNcLiCk='alert(1)'>x</p>", id="onclick-mixed-case"),
    pytest.param("<details open ontoggle=alert(1)>", id="details-ontoggle"),
    pytest.param("<body onload=alert(1)>", id="body-onload"),
    pytest.param("<input autofocus onfocus=alert(1)>", id="input-onfocus"),
    pytest.param('<video><source onerror="alert(1)"></video>', id="video-source"),
    pytest.param("<audio src=x onerror=alert(1)>", id="audio"),
    pytest.param("<marquee onstart=alert(1)>x</marquee>", id="marquee"),
    pytest.param("<isindex type=image src=1 onerror=alert(1)>", id="isindex"),
    pytest.param("<keygen autofocus onfocus=alert(1)>", id="keygen"),
    pytest.param("<template><script>alert(1)</script></template>", id="template"),
    pytest.param('<noscript><p title="</noscript><img src=x onerror=alert(1)>">', id="noscript"),
    pytest.param("<x onclick=alert(1)>unknown tag</x>", id="unknown-tag"),
    # Comments, CDATA, encodings
    pytest.param("<!-- <script>alert(1)</script> -->", id="comment"),
    pytest.param("<!--[if gte IE 4]><script>alert(1)</script><![endif]-->", id="conditional"),
    pytest.param("<![CDATA[<script>alert(1)</script>]]>", id="cdata"),
    pytest.param("<?xml-stylesheet href='javascript:alert(1)'?>", id="processing-instruction"),
    pytest.param("<!DOCTYPE html><html><body onload=alert(1)>", id="doctype"),
    pytest.param("&lt;script&gt;alert(1)&lt;/script&gt;", id="entity-named"),
    pytest.param("&#60;script&#62;alert(1)&#60;/script&#62;", id="entity-decimal"),
    pytest.param("&#x3C;img src=x onerror=alert(1)&#x3E;", id="entity-hex"),
    pytest.param("\\<script>alert(1)\\</script>", id="backslash-escaped"),
    # Markdown links
    pytest.param("[x](javascript:alert(1))", id="md-link-javascript"),
    pytest.param("[x](JaVaScRiPt:alert(1))", id="md-link-mixed-case"),
    pytest.param("[x](java&#x09;script:alert(1))", id="md-link-tab-entity"),
    pytest.param("[x](java\tscript:alert(1))", id="md-link-raw-tab"),
    pytest.param("[x](&#106;avascript:alert(1))", id="md-link-decimal-entity"),
    pytest.param(
        "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))",
        id="md-link-all-hex-entities",
    ),
    pytest.param("[x](javascript&colon;alert(1))", id="md-link-colon-entity"),
    pytest.param("[x](javascript&#58;alert(1))", id="md-link-colon-decimal"),
    pytest.param("[x](   javascript:alert(1))", id="md-link-leading-spaces"),
    pytest.param("[x](\njavascript:alert(1))", id="md-link-leading-newline"),
    pytest.param("[x](<javascript:alert(1)>)", id="md-link-angle-brackets"),
    pytest.param("[x](javascript://%0Aalert(1))", id="md-link-comment-trick"),
    pytest.param("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", id="md-data"),
    pytest.param("[x](DATA:text/html,<script>alert(1)</script>)", id="md-data-caps"),
    pytest.param("[x](vbscript:msgbox(1))", id="md-vbscript"),
    pytest.param("[x](javas\x00cript:alert(1))", id="md-link-nul"),
    pytest.param('[x](http://x.com" onmouseover="alert(1))', id="md-link-quote-break"),
    pytest.param("[x](http://x.com 'a\" onmouseover=\"alert(1)')", id="md-title-quote-break"),
    pytest.param('[x](http://x.com "a\\" onmouseover=alert(1) y=\\"")', id="md-title-escaped"),
    pytest.param("[<img src=x onerror=alert(1)>](http://example.com)", id="md-link-html-text"),
    pytest.param("[a][evil]\n\n[evil]: javascript:alert(1)", id="md-reference-javascript"),
    pytest.param('[a][evil]\n\n[evil]: <javascript:alert(1)> "t"', id="md-reference-angle"),
    pytest.param("[evil]\n\n[evil]: data:text/html,<script>alert(1)</script>", id="md-ref-data"),
    pytest.param("[evil][]\n\n[EVIL]: vbscript:msgbox(1)", id="md-reference-vbscript"),
    # Markdown images
    pytest.param("![x](javascript:alert(1))", id="md-image-javascript"),
    pytest.param(
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)", id="md-image-data"
    ),
    pytest.param('![x](x.png" onerror="alert(1))', id="md-image-quote-break"),
    pytest.param('![x" onerror="alert(1)](http://example.com/a.png)', id="md-image-alt-break"),
    pytest.param("![x][img]\n\n[img]: javascript:alert(1)", id="md-image-reference"),
    # Autolinks and linkified text
    pytest.param("<javascript:alert(1)>", id="autolink-javascript"),
    pytest.param("<JAVASCRIPT:alert(1)>", id="autolink-javascript-caps"),
    pytest.param("<vbscript:msgbox(1)>", id="autolink-vbscript"),
    pytest.param('<http://example.com/"onmouseover="alert(1)>', id="autolink-quote-break"),
    pytest.param("<a@b.com onmouseover=alert(1)>", id="automail-attribute"),
    pytest.param("data:text.com/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg", id="bare-data"),
    pytest.param("javascript:alert(1)//example.com", id="bare-javascript"),
    # Markup in places Markdown treats specially
    pytest.param("# <img src=x onerror=alert(1)>\n\n[TOC]", id="heading-and-toc"),
    pytest.param("| a | b |\n|---|---|\n| <script>alert(1)</script> | x |", id="table-cell"),
    pytest.param("* <iframe src=javascript:alert(1)>\n* two", id="list-item"),
    pytest.param("> <svg onload=alert(1)>", id="blockquote"),
    pytest.param("*<img src=x onerror=alert(1)>*", id="emphasis"),
    pytest.param("`<script>alert(1)</script>`", id="inline-code"),
    pytest.param('```"><script>alert(1)</script>\nx\n```', id="fence-info-string"),
    pytest.param('```python" onmouseover="alert(1)\nx\n```', id="fence-info-attribute"),
    pytest.param("```\ncode\n```\n\n\x02wzxhzdk:0\x03 <script>", id="stash-placeholder"),
    pytest.param('# Title {: onclick="alert(1)" style="color:red" }', id="attr-list-heading"),
    pytest.param("[x](http://example.com){: onmouseover=alert(1) }", id="attr-list-link"),
    pytest.param('para\n{: #evil .x style="position:fixed" }', id="attr-list-paragraph"),
]


def test_there_are_at_least_forty_vectors():
    assert len(XSS_VECTORS) >= 40


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vector_is_inert(vector):
    assert_inert(render(vector))


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vector_is_inert_with_toc(vector):
    output, toc = render_with_toc(vector)

    assert_inert(output)
    for entry in toc:
        assert re.fullmatch(r"[\w\-]+", entry["id"])


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vector_is_inert_inside_surrounding_text(vector):
    assert_inert(render(f"Hello **there**, see http://example.com\n\n{vector}\n\n> done"))


# Every one of these is typed HTML; it must reach the reader as the characters typed.
SHOWN_AS_TEXT = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">click</a>',
    "<style>body{color:red}</style>",
    '<div style="width: expression(alert(1))">x</div>',
    '<meta http-equiv="refresh" content="0;url=http://evil.example/">',
    "<details open ontoggle=alert(1)>",
    "<!-- hidden -->",
    "<![CDATA[x]]>",
    "<javascript:alert(1)>",
]


@pytest.mark.parametrize("typed", SHOWN_AS_TEXT)
def test_typed_html_is_shown_as_the_characters_typed(typed):
    doc = assert_inert(render(typed))

    assert doc.text.strip() == typed


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[a][evil]\n\n[evil]: javascript:alert(1)",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
    ],
)
def test_dangerous_link_keeps_its_text_but_loses_its_target(source):
    doc = assert_inert(render(source))

    links = doc.tags_named("a")
    assert len(links) == 1
    assert "href" not in links[0]


def test_dangerous_image_loses_its_source():
    doc = assert_inert(render("![logo](javascript:alert(1))"))

    assert doc.tags_named("img") == [{"alt": "logo"}]


@pytest.mark.parametrize(
    "text",
    [
        "ssh://example.com/repo",
        "data:text.com/html;base64,PHNjcmlwdD4",
        "feed:example.com/rss",
        "telnet://example.com",
        "webcal://example.com/cal.ics",
        "xmpp:someone@example.com",
    ],
)
def test_linkified_urls_only_use_allowed_schemes(text):
    # bleach's linkifier runs after the sanitiser; by default it links ~20 schemes.
    doc = assert_inert(render(f"see {text} now"))

    for link in doc.tags_named("a"):
        assert url_scheme(link["href"]) in SAFE_SCHEMES


# ---------------------------------------------------------------------------------------------
# 3. Typed HTML is text
# ---------------------------------------------------------------------------------------------


def test_typed_bold_tag_is_text_not_bold():
    output = render("<b>hi</b>")

    doc = ParsedHtml(output)
    assert doc.tags_named("b") == []
    assert doc.text == "<b>hi</b>"
    assert output == "<p>&lt;b&gt;hi&lt;/b&gt;</p>"


def test_typed_entities_are_shown_not_decoded_into_tags():
    doc = assert_inert(render("Tom &amp; Jerry &lt;b&gt; 5 &gt; 3 & 2 < 4"))

    assert doc.tags_named("b") == []
    assert doc.text == "Tom & Jerry <b> 5 > 3 & 2 < 4"


def test_markdown_formatting_still_works():
    doc = assert_inert(render("**bold** _em_ ~~no~~\n\n1. one\n2. two\n\n> quote\n\n---"))

    tags = [tag for tag, _ in doc.tags]
    for expected in ("strong", "em", "ol", "li", "blockquote", "hr"):
        assert expected in tags


def test_tables_render():
    doc = assert_inert(render("| a | b |\n|:--|--:|\n| 1 | 2 |"))

    assert [tag for tag, _ in doc.tags] == [
        "table",
        "thead",
        "tr",
        "th",
        "th",
        "tbody",
        "tr",
        "td",
        "td",
    ]
    assert doc.text.split() == ["a", "b", "1", "2"]


# ---------------------------------------------------------------------------------------------
# 4. Links
# ---------------------------------------------------------------------------------------------


def test_markdown_link_gets_rel():
    doc = assert_inert(render("[docs](https://example.com/docs?a=1&b=2 'The docs')"))

    assert doc.tags_named("a") == [
        {"href": "https://example.com/docs?a=1&b=2", "title": "The docs", "rel": REL}
    ]


def test_autolink_and_reference_link_get_rel():
    doc = assert_inert(
        render("<https://example.com/a> and [b][ref]\n\n[ref]: http://example.org/b")
    )

    assert doc.tags_named("a") == [
        {"href": "https://example.com/a", "rel": REL},
        {"href": "http://example.org/b", "rel": REL},
    ]


def test_mailto_link_is_allowed():
    doc = assert_inert(render("[mail us](mailto:help@example.com)"))

    assert doc.tags_named("a") == [{"href": "mailto:help@example.com", "rel": REL}]


def test_bare_urls_are_linkified():
    doc = assert_inert(render("See https://example.com/path?q=1 and www.example.org for more."))

    assert doc.tags_named("a") == [
        {"href": "https://example.com/path?q=1", "rel": REL},
        {"href": "http://www.example.org", "rel": REL},
    ]
    assert doc.text == "See https://example.com/path?q=1 and www.example.org for more."


def test_bare_email_addresses_are_not_linkified():
    doc = assert_inert(render("Write to carla@example.com please"))

    assert doc.tags_named("a") == []


def test_urls_inside_inline_code_are_not_linkified():
    doc = assert_inert(render("Run `curl https://example.com/api` first"))

    assert doc.tags_named("a") == []
    assert "curl https://example.com/api" in doc.text


def test_urls_inside_fenced_code_are_not_linkified():
    doc = assert_inert(render(fenced("curl https://example.com/api\nopen www.example.org", "sh")))

    assert doc.tags_named("a") == []
    assert doc.pre_texts[0].rstrip("\n") == "curl https://example.com/api\nopen www.example.org"


def test_urls_inside_indented_code_are_not_linkified():
    doc = assert_inert(render("Try:\n\n    wget http://example.com/file"))

    assert doc.tags_named("a") == []


def test_relative_and_fragment_links_are_kept():
    doc = assert_inert(render("[kb](/kb/reset-password/) and [top](#h-top)"))

    assert [link["href"] for link in doc.tags_named("a")] == ["/kb/reset-password/", "#h-top"]


# ---------------------------------------------------------------------------------------------
# 5. Classes, ids and the table of contents
# ---------------------------------------------------------------------------------------------


def test_only_allowed_classes_survive_in_rendered_output():
    source = "# Title\n\n[TOC]\n\n" + fenced(PYTHON_TABS, "python") + "\n\n" + fenced("x", "nope")
    doc = assert_inert(render(source))

    for tag, attrs in doc.tags:
        attrs = dict(attrs)
        if "class" in attrs:
            assert tag in {"div", "span", "code", "pre"}
            assert re.fullmatch(r"[a-zA-Z0-9_\- ]{0,80}", attrs["class"])
        if "id" in attrs:
            assert tag in {"h1", "h2", "h3", "h4", "h5", "h6"}


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ('<div class="codeblock">x</div>', '<div class="codeblock">x</div>'),
        ('<span class="k nf">x</span>', '<span class="k nf">x</span>'),
        ('<div class="a&quot; onclick=&quot;x">x</div>', "<div>x</div>"),
        ('<span class="x;background:url(y)">x</span>', "<span>x</span>"),
        (f'<div class="{"a" * 81}">x</div>', "<div>x</div>"),
        ('<p class="lead">x</p>', "<p>x</p>"),
        (
            '<a class="button" href="http://example.com">x</a>',
            f'<a href="http://example.com" rel="{REL}">x</a>',
        ),
        ('<h2 id="h-ok">x</h2>', '<h2 id="h-ok">x</h2>'),
        ('<h2 id="Bad Id">x</h2>', "<h2>x</h2>"),
        ('<h2 id="javascript:alert(1)">x</h2>', "<h2>x</h2>"),
        ('<div id="h-ok">x</div>', "<div>x</div>"),
        ('<p title="x" dir="rtl" lang="en">x</p>', "<p>x</p>"),
    ],
)
def test_sanitiser_keeps_only_allowed_classes_and_ids(fragment, expected):
    # Markdown itself never emits these; this checks the last layer on its own.
    assert markup._CLEANER.clean(fragment) == expected


def test_headings_get_ids_and_the_toc_lists_them_in_order():
    source = (
        "# Getting started\n\n"
        "Intro.\n\n"
        "## Install the app\n\n"
        "### On *Linux*\n\n"
        "### On macOS\n\n"
        "## Install the app\n\n"
        "Configure\n---------\n"
    )
    output, toc = render_with_toc(source)

    assert toc == [
        {"id": "h-getting-started", "name": "Getting started", "level": 1},
        {"id": "h-install-the-app", "name": "Install the app", "level": 2},
        {"id": "h-on-linux", "name": "On Linux", "level": 3},
        {"id": "h-on-macos", "name": "On macOS", "level": 3},
        {"id": "h-install-the-app_1", "name": "Install the app", "level": 2},
        {"id": "h-configure", "name": "Configure", "level": 2},
    ]
    doc = assert_inert(output)
    heading_ids = [
        (tag, dict(attrs).get("id")) for tag, attrs in doc.tags if re.fullmatch(r"h[1-6]", tag)
    ]
    assert heading_ids == [
        ("h1", "h-getting-started"),
        ("h2", "h-install-the-app"),
        ("h3", "h-on-linux"),
        ("h3", "h-on-macos"),
        ("h2", "h-install-the-app_1"),
        ("h2", "h-configure"),
    ]


def test_render_with_toc_renders_the_same_html_as_render():
    source = "# One\n\ntext http://example.com\n\n## Two\n\n" + fenced(MAKEFILE, "make")

    output, _ = render_with_toc(source)

    assert output == render(source)


def test_toc_ignores_headings_inside_code():
    _, toc = render_with_toc("# Real\n\n" + fenced("# not a heading\n## nor this"))

    assert toc == [{"id": "h-real", "name": "Real", "level": 1}]


def test_toc_marker_renders_links_to_the_headings():
    doc = assert_inert(render("[TOC]\n\n# Alpha\n\n## Beta"))

    assert {"class": "toc"} in doc.tags_named("div")
    assert [link["href"] for link in doc.tags_named("a")] == ["#h-alpha", "#h-beta"]


def test_long_heading_id_is_capped():
    output, toc = render_with_toc("# " + "word " * 40)

    assert len(toc[0]["id"]) <= 80
    assert ParsedHtml(output).tags_named("h1") == [{"id": toc[0]["id"]}]


# ---------------------------------------------------------------------------------------------
# 6. Rendered once, at write time, and stored
# ---------------------------------------------------------------------------------------------

STORED_BODY = "Hi,\n\n<script>alert(1)</script> and **bold** at https://example.com\n\n" + fenced(
    MAKEFILE, "make"
)


def count_render_calls(monkeypatch):
    calls = []
    real_render = markup.render

    def counting_render(text):
        calls.append(text)
        return real_render(text)

    monkeypatch.setattr(markup, "render", counting_render)
    return calls


def test_new_ticket_stores_rendered_body(db, customer, queue, monkeypatch):
    calls = count_render_calls(monkeypatch)

    ticket = ticket_services.create_ticket(
        requester=customer, subject="Build broken", body=STORED_BODY, queue=queue
    )

    message = Message.objects.get(ticket=ticket)
    assert message.body == STORED_BODY
    assert message.body_html == render(STORED_BODY)
    assert calls == [STORED_BODY]
    assert_inert(message.body_html)
    assert ParsedHtml(message.body_html).pre_texts[0].rstrip("\n") == MAKEFILE


def test_ticket_body_with_crlf_is_stored_rendered(db, customer, queue):
    body = STORED_BODY.replace("\n", "\r\n")

    ticket = ticket_services.create_ticket(
        requester=customer, subject="Windows user", body=body, queue=queue
    )

    message = Message.objects.get(ticket=ticket)
    assert message.body_html == render(body)
    assert message.body_html == render(STORED_BODY)


def test_new_forum_thread_stores_rendered_body(db, customer, monkeypatch):
    category = Category.objects.create(name="Help", slug="help")
    calls = count_render_calls(monkeypatch)

    thread = forum_services.start_thread(
        author=customer, category=category, title="Makefile question", body=STORED_BODY
    )

    post = thread.posts.get()
    assert post.body == STORED_BODY
    assert post.body_html == render(STORED_BODY)
    assert calls == [STORED_BODY]
    assert_inert(post.body_html)


def test_forum_reply_stores_rendered_body(db, customer, other_customer):
    category = Category.objects.create(name="Help", slug="help")
    thread = forum_services.start_thread(
        author=customer, category=category, title="Question", body="Anyone?"
    )

    post = forum_services.post_reply(
        thread=thread, author=other_customer, body="<img src=x onerror=alert(1)> try `make`"
    )

    post.refresh_from_db()
    assert post.body_html == render("<img src=x onerror=alert(1)> try `make`")
    assert_inert(post.body_html)


# ---------------------------------------------------------------------------------------------
# 7. Edge cases
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("empty", ["", None])
def test_empty_input_renders_empty(empty):
    assert render(empty) == ""
    assert render_with_toc(empty) == ("", [])


def test_whitespace_only_input_renders_nothing_visible():
    doc = assert_inert(render("  \n\n\t\n   "))

    assert doc.text.strip() == ""


def test_windows_and_old_mac_line_endings_match_unix():
    unix = "# Title\n\nline one\nline two\n\n" + fenced(BLANK_LINES, "python")

    assert render(unix.replace("\n", "\r\n")) == render(unix)
    assert render(unix.replace("\n", "\r")) == render(unix)


def test_crlf_inside_code_becomes_plain_newlines():
    output = render(fenced(MAKEFILE, "make").replace("\n", "\r\n"))

    pre = ParsedHtml(output).pre_texts[0]
    assert "\r" not in pre
    assert pre.rstrip("\n") == MAKEFILE


def test_nul_bytes_are_replaced():
    output = render("a\x00b\n\n" + fenced("x\x00y"))

    assert "\x00" not in output
    assert "a\ufffdb" in ParsedHtml(output).text
    assert ParsedHtml(output).pre_texts[0].rstrip("\n") == "x\ufffdy"


def test_rendering_is_deterministic():
    source = STORED_BODY + "\n\n" + fenced(PYTHON_TABS, "python") + "\n\n# Heading"

    assert render(source) == render(source)
    assert render_with_toc(source) == render_with_toc(source)


def test_large_input_renders():
    chunk = (
        "## Section\n\nSome *text* with a [link](https://example.com) and http://example.org.\n\n"
        "- item one\n- item two\n\n"
        + fenced("for i in range(10):\n\tprint(i)  \n\n\n", "python")
        + "\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    )
    source = (chunk * (100_000 // len(chunk) + 1))[:100_000]
    assert len(source) == 100_000

    output = render(source)

    doc = assert_inert(output)
    assert len(doc.tags_named("pre")) >= 300
    assert doc.tags_named("script") == []


def test_large_single_code_block_keeps_every_character():
    code = "\n".join(f"\tline {i}\t<&>  " for i in range(6_000))
    assert len(code) > 100_000

    pre = ParsedHtml(render(fenced(code))).pre_texts[0]

    assert pre in (code, code + "\n")


def test_thousands_of_brackets_are_shown_as_typed():
    # Past the guard, brackets are escaped instead of parsed (the parser is super-linear in them).
    text = "[" * 5000 + " and [a](http://example.com)"
    html = render(text)
    assert html.count("[") == 5001
    assert ">a</a>" not in html  # the Markdown link is text; only the bare URL is linked


def test_tables_keep_alignment():
    html = render("| a | b |\n|:--|--:|\n| 1 | 2 |")
    assert '<td align="right">2</td>' in html


def test_non_ascii_headings_get_ascii_ids_matching_the_toc():
    html, toc = render_with_toc("# Café\n\n# 日本\n\n# Setup & <install>")
    assert [t["id"] for t in toc] == ["h-cafe", toc[1]["id"], "h-setup-install"]
    for entry in toc:
        assert f'id="{entry["id"]}"' in html
    assert toc[2]["name"] == "Setup & <install>"


# Plain text (email) without the sanitiser ----------------------------------------------------

PLAIN_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "email"

TRICKY_PLAIN = [
    "",
    "\n\n\n",
    "just words.\nand a second line",
    "quotes \" and ' and <b>tags</b> & &amp; &lt; &#x27; &nbsp; &bogus; &",
    "tab\there, form\x0cfeed, bell\x07, escape\x1b, del\x7f, nul\x00, \x85\u2028\u2029",
    "\ufffe \uffff \U0010ffff non-characters and \u200b zero width",
    "see example.com now",
    "a.b.c",
    "end of sentence.Next sentence",
    "mail me: someone@example.com",
    "x@example.com",
    "(https://example.com/path?a=1&b=2).",
    "www.example.org, then",
    'href="javascript:alert(1)"',
    "javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "ftp://files.example.net/x",
    "ssh://host.example.io",
    "file.txt and report.pdf and config.yaml and main.py",
    "version 1.2.3 on node.js",
    "v2.0.1-beta",
    "<https://example.com>",
    "'example.com'",
    '"example.com"',
    "a&example.com",
    "<script>alert(1)</script>",
    "1.5.2016 and 3.14",
    "e.g. i.e. etc. U.S.A.",
    "Dr.Who",
    "\r\nwindows\r\nline\rendings\r\n\r\n\r\nparagraph",
    "  indented\n    code-ish\n\n\n\n* bullets *stay* _as_ typed",
]


def _plain_reference(text: str) -> str:
    """render_plain the long way: always through the linkifier and sanitiser."""
    return markup._sanitised_plain(text) if text else ""


def _shown(html_text: str) -> str:
    """The text a browser shows for render_plain's HTML (line breaks as newlines)."""
    shown = ParsedHtml(html_text.replace("<br>\n", "\n").replace("</p>\n<p>", "\n\n")).text
    # The sanitiser leaves a control character beside a tab or space as it is: either way.
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "?", shown).rstrip("\n")


def _as_typed(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd").strip("\n")
    text = re.sub(r"\n{2,}", "\n\n", text)
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "?", text)


@pytest.mark.parametrize("text", TRICKY_PLAIN)
def test_render_plain_shortcut_matches_the_sanitiser(text):
    assert markup.render_plain(text) == _plain_reference(text)
    # Both ways show exactly what was typed (a typed "&lt;" stays "&lt;", not "<").
    assert _shown(markup.render_plain(text)) == _as_typed(text)


def test_render_plain_shortcut_matches_the_sanitiser_on_random_text():
    import random

    rng = random.Random(20261203)
    pieces = [
        "word",
        " ",
        "\n",
        "\n\n",
        ".",
        ",",
        "(",
        ")",
        "<",
        ">",
        "&",
        '"',
        "'",
        "@",
        ":",
        "/",
        "com",
        "org",
        "io",
        "net",
        "example",
        "www",
        "http",
        "https",
        "mailto",
        "\t",
        "\x0c",
        "\x01",
        "ü",
        "é",
        "日本",
        "-",
        "_",
        "#",
        "?",
        "=",
        "0",
        "42",
        "amp;",
        "lt;",
        "\u00a0",
    ]
    shortcut = 0
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        assert markup.render_plain(text) == _plain_reference(text), repr(text)
        assert _shown(markup.render_plain(text)) == _as_typed(text), repr(text)
        shortcut += not markup._may_link(text) and not markup._INVISIBLE.search(text)
    assert shortcut > 300  # the shortcut itself was exercised, not only the fallback


def test_render_plain_shortcut_matches_the_sanitiser_on_the_email_corpus():
    import importlib.util

    from tests.conftest import missing_real_part
    from tickets.mailparse import parse_message

    if not (PLAIN_CORPUS / "check.py").is_file():
        missing_real_part(f"email corpus not found at {PLAIN_CORPUS}")
    spec = importlib.util.spec_from_file_location("email_corpus_check", PLAIN_CORPUS / "check.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    files = [Path(entry["_path"]) for entry in check.load_corpus(str(PLAIN_CORPUS), None)]
    shortcut = 0
    for path in files:
        parsed = parse_message(path.read_bytes())
        for text in {parsed.shown_text or "", parsed.body_text or ""}:
            assert markup.render_plain(text) == _plain_reference(text), path.name
            shortcut += (
                bool(text) and not markup._may_link(text) and not markup._INVISIBLE.search(text)
            )
    assert shortcut > 20
