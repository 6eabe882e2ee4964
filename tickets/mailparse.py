"""Inbound email parsing: raw RFC 5322 bytes in, a `ParsedEmail` out. No database, no I/O.

Guarantees: `parse_message` never raises for any input; headers come back decoded (RFC 2047,
RFC 2231, undeclared 8-bit); `body_text` is readable text (text/plain preferred, HTML converted)
with quoted reply history trimmed, `shown_text` the same without a trailing signature (what a
ticket shows), `full_text` the text untrimmed. The approach and the corpus score are in
docs/email.md.

Built on the stdlib `email` package in compat32 mode: it keeps raw header values, so we decode
them ourselves and survive the broken headers real mail carries, where policy.default raises or
mangles (8-bit names, encoded words inside quotes or split across multi-byte characters).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.policy
import mimetypes
import quopri
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from email.generator import BytesGenerator
from email.message import Message as MimePart
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from io import BytesIO

import charset_normalizer
from tnefparse import TNEF

# Charset labels mail clients send that Python does not know, or knows by a narrower table.
# Decoding with the superset is what every browser and mail client does (WHATWG encodings).
CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "korean": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "iso-gb2312": "gb18030",
    "euc-cn": "gb18030",
    "chinese": "gb18030",
    "big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "euc-jp": "euc_jis_2004",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "unicode-1-1-utf-7": "utf-7",
    "x-mac-cyrillic": "mac_cyrillic",
    "mac-cyrillic": "mac_cyrillic",
    "macintosh": "mac_roman",
    "x-mac-roman": "mac_roman",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "windows-874": "cp874",
    "x-user-defined": "cp1252",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-9": "cp1254",
    "utf8": "utf-8",
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
    "default": "",
    "charset": "",
}

# The prefixes responders put before the original subject ("Automatic reply: Your order").
AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|auto[- ]?response|out of (the )?office( autoreply)?|"
    r"abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|respuesta autom[aá]tica|"
    r"risposta automatica|automatisch antwoord|autosvar|automaattinen vastaus)\s*:",
    re.IGNORECASE,
)
BOUNCE_SUBJECT = re.compile(
    r"(undeliver(ed|able)|delivery (status notification|failure|failed|has failed|problem)|"
    r"returned mail|mail delivery failed|failure notice|non[- ]?delivery|"
    r"could not be delivered|unzustellbar|nicht zustellbar|message not delivered|"
    r"delivery report|mail system error|メールエラー|未送達|配信不能|退信)",
    re.IGNORECASE,
)
# Local parts only mail systems send from (RFC 2142), and those of list servers (RFC 2369 era
# conventions), which count only on mail that carries list headers.
ROBOT_LOCALPART = re.compile(
    r"^(mailer-?daemon|postmaster|mail-?delivery-?(system|subsystem))$", re.IGNORECASE
)
LIST_ROBOT_LOCALPART = re.compile(r"^(.+-(admin|owner|request|bounces?)|owner-.+)$", re.IGNORECASE)
LIST_HEADERS = (
    "List-Id",
    "List-Subscribe",
    "List-Unsubscribe",
    "Mailing-List",
    "X-Mailing-List",
    "X-ML-Name",
    "X-MLServer",
)
ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")
FORWARD_SUBJECT = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw)\s*:\s*)*(?:fwd?|wg|w\.|tr|rv|enc|doorst|vb|i|fs|pd)\s*:",
    re.IGNORECASE,
)
MSGID = re.compile(r"<([^<>\s]+)>")
UUE_BEGIN = re.compile(r"^begin [0-7]{3,4} (.+)$")


@dataclass
class Attachment:
    filename: str | None
    content_type: str
    size: int
    payload: bytes = field(repr=False)
    content_id: str | None = None
    is_inline: bool = False
    charset: str | None = None  # declared charset of a text attachment
    # Files unpacked from a TNEF (winmail.dat) container; the container itself stays listed.
    extracted: list[Attachment] = field(default_factory=list)

    @property
    def is_message(self) -> bool:
        return self.content_type in ("message/rfc822", "message/global")

    def parse_attached_message(self) -> ParsedEmail | None:
        """The attached mail (message/rfc822) parsed the same way, for forwarded messages."""
        return parse_message(self.payload) if self.is_message else None


@dataclass
class ParsedEmail:
    from_address: str = ""
    from_name: str = ""
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    full_text: str = ""
    # body_text without a trailing signature: what the ticket shows (the original keeps it)
    shown_text: str = ""
    signature: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    date: datetime | None = None
    is_auto_reply: bool = False
    is_bounce: bool = False
    auto_reply_reason: str = ""


# Bytes and charsets ---------------------------------------------------------------------------


def _codec(label: str | None) -> str:
    """Python's codec name (underscored, e.g. "iso2022_jp") for a charset label, or ""."""
    label = (label or "").strip().strip("\"'").lower()
    label = CHARSET_ALIASES.get(label, label)
    if not label:
        return ""
    try:
        return codecs.lookup(label).name.replace("-", "_")
    except (LookupError, ValueError):  # ValueError: a label with a NUL in it
        return ""


_MULTI_BYTE_CODECS = (
    "utf_8 utf_7 cp932 shift_jis euc_jp euc_jis_2004 iso2022_jp iso2022_jp_ext iso2022_jp_2 "
    "gb2312 gbk gb18030 big5 big5hkscs cp950 cp949 euc_kr johab iso2022_kr hz"
)
_MULTI_BYTE = frozenset(_MULTI_BYTE_CODECS.split())


def decode_bytes(data: bytes, charset: str | None = None, hints: tuple[str, ...] = ()) -> str:
    """Decode text whose declared charset may be missing, unknown or wrong; never raises."""
    if not data:
        return ""
    declared = _codec(charset)
    stateful = declared.startswith(("utf_7", "utf_16", "utf_32", "iso2022", "hz"))
    if data.isascii() and not stateful:
        if b"\x1b$" not in data:
            return data.decode("ascii")
        declared = declared or "iso2022_jp_ext"  # undeclared ISO-2022-JP, common in Japan
    try:
        utf8 = data.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    # Valid UTF-8 under a single-byte label is almost always mislabelled UTF-8: the odds of
    # Latin-1 prose forming valid multi-byte sequences by chance are tiny.
    if declared and not (utf8 is not None and declared not in _MULTI_BYTE):
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            if declared.startswith("iso2022_jp"):
                return _iso2022jp_as_cp932(data)
    if utf8 is not None:
        return utf8
    # Undeclared or wrongly declared 8-bit: a multi-byte charset used elsewhere in the message
    # that decodes cleanly is strong evidence; a single-byte one decodes anything, so it is weak.
    hinted = [c for c in (_codec(h) for h in hints) if c]
    for codec in [c for c in hinted if c in _MULTI_BYTE]:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    # Detection needs some text to go on; for a short header only trust a multi-byte verdict.
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and (len(data) >= 64 or _codec(best.encoding) in _MULTI_BYTE):
        return str(best)
    fallback = declared or next((c for c in hinted if c not in _MULTI_BYTE), "cp1252")
    return data.decode(fallback, errors="replace")


def _iso2022jp_as_cp932(data: bytes) -> str:
    """ISO-2022-JP read the way Windows writes it (CP50220): JIS X 0208 plus the NEC and IBM
    extensions (①, №, ...) that Python's iso2022_jp codecs reject. Transcoded to CP932."""
    out, mode = bytearray(), b"(B"
    for chunk in re.split(rb"(\x1b(?:\$[@B]|\([BJI]))", data):
        if chunk.startswith(b"\x1b"):
            mode = chunk[1:]
        elif mode in (b"$@", b"$B"):
            for j1, j2 in zip(chunk[0::2], chunk[1::2], strict=False):
                s1 = ((j1 - 0x21) >> 1) + 0x81
                s1 += 0x40 if s1 > 0x9F else 0
                s2 = j2 + (0x1F + (j2 >= 0x60) if j1 & 1 else 0x7E)
                out += bytes((s1 & 0xFF, s2 & 0xFF))
        elif mode == b"(I":
            out += bytes(b | 0x80 for b in chunk)
        else:
            out += chunk
    return out.decode("cp932", errors="replace")


def _header_bytes(value) -> bytes:
    """The bytes of a header value: compat32 keeps undeclared 8-bit as surrogate escapes."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogateescape")


def _unfold(raw: bytes) -> bytes:
    return re.sub(rb"\r?\n(?=[ \t])", b"", raw).replace(b"\r", b" ").replace(b"\n", b" ")


def _word_bytes(encoding: bytes, text: bytes) -> bytes:
    if encoding in b"Bb":
        cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", text)
        try:
            return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
        except (binascii.Error, ValueError):
            return text
    return quopri.decodestring(text.replace(b"_", b" "))


def decode_header_value(value, hints: tuple[str, ...] = ()) -> str:
    """RFC 2047 words (also where RFC 2047 forbids them), undeclared 8-bit, folding; no raise.

    Works on bytes, so raw 8-bit inside an encoded word keeps its meaning, and adjacent words
    of one charset are joined before decoding (senders split multi-byte characters).
    """
    if value is None:
        return ""
    raw = _unfold(_header_bytes(value))
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []

    def flush():
        while pending:
            charset, data = pending.pop(0)
            while pending and pending[0][0] == charset:
                data += pending.pop(0)[1]
            # RFC 2231 language suffix: =?utf-8*en?Q?...?=
            out.append(decode_bytes(data, charset.split("*", 1)[0] or None, hints))

    pos = 0
    for match in ENCODED_WORD.finditer(raw):
        between = raw[pos : match.start()]
        if between and not (pending and between.isspace()):
            flush()
            out.append(decode_bytes(between, None, hints))
        charset = match.group(1).decode("ascii", "replace").lower()
        pending.append((charset, _word_bytes(match.group(2), match.group(3))))
        pos = match.end()
    flush()
    out.append(decode_bytes(raw[pos:], None, hints))
    return "".join(out)


def _clean_spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# Addresses -------------------------------------------------------------------------------------


def _strip_comments(text: str) -> str:
    """The header without its (comments), leaving quoted strings alone."""
    out, depth, quoted, escaped = [], 0, False, False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"' and not depth:
            quoted = not quoted
        elif ch == "(" and not quoted:
            depth += 1
            continue
        elif ch == ")" and depth:
            depth -= 1
            continue
        if not depth:
            out.append(ch)
    return "".join(out)


def _parse_addresses(values: list, hints: tuple[str, ...]) -> list[tuple[str, str]]:
    """[(display name, address)] from raw header values; encoded words protected from splitting."""
    result = []
    for value in values:
        # latin-1 maps bytes 1:1, so names go back to decode_header_value as their raw bytes
        text = _unfold(_header_bytes(value)).decode("latin-1")
        words: list[str] = []

        def protect(match, words=words):
            words.append(match.group(0))
            return f"\x00{len(words) - 1}\x00"

        protected = re.sub(ENCODED_WORD.pattern.decode(), protect, text)
        try:
            pairs = getaddresses([protected])
            # "Name (comment) <addr>": the comment is not part of the name (RFC 5322 3.4), but
            # "addr (Name)" has no phrase and the comment is all the name there is
            plain = getaddresses([_strip_comments(protected)])
        except Exception:  # a malformed header must not stop the parse
            pairs, plain = [], []
        if len(plain) == len(pairs):
            pairs = [(p[0] or n, a) for (n, a), p in zip(pairs, plain, strict=True)]
        for name, addr in pairs:

            def restore(s, words=words):
                return re.sub(r"\x00(\d+)\x00", lambda m: words[int(m.group(1))], s)

            name = decode_header_value(restore(name).encode("latin-1"), hints)
            addr = decode_bytes(restore(addr).encode("latin-1"), None, hints)
            result.append((_clean_spaces(name), addr.strip().strip("<>").strip()))
    return result


def _addresses(values: list, hints) -> list[str]:
    return [a.lower() for _n, a in _parse_addresses(values, hints) if "@" in a]


# HTML to text -----------------------------------------------------------------------------------

# Paragraph-like elements get a blank line around them, other blocks just start a new line.
_PARA_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "pre"})
_BLOCK_TAG_NAMES = (
    "address article aside caption center dd div dt fieldset figcaption figure footer form "
    "header hr li main nav section tbody thead tfoot tr"
)
_BLOCK_TAGS = frozenset(_BLOCK_TAG_NAMES.split())
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "noscript", "template", "xml"})
# Layout tokens in the converter's output stream (control characters never appear in HTML text).
_BR, _BLOCK, _PARA, _QUOTE_OPEN, _QUOTE_CLOSE = "\n", "\x03", "\x04", "\x01", "\x02"


class _HtmlText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.pre = 0
        self.links: list[tuple[str, int]] = []

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "a":
            self.links.append(((dict(attrs).get("href") or "").strip(), len(self.out)))
        elif tag in ("br", "hr"):
            self.out.append(_BR)
        elif tag in ("td", "th"):
            self.out.append(" \t ")
        elif tag == "blockquote":
            self.out.append(_QUOTE_OPEN)
        elif tag in _PARA_TAGS:
            self.out.append(_PARA)
            self.pre += tag == "pre"
        elif tag in _BLOCK_TAGS:
            self.out.append(_BLOCK)
            if tag == "li":
                self.out.append("- ")

    def handle_startendtag(self, tag, attrs):
        if tag in ("br", "hr"):
            self.out.append(_BR)

    def handle_endtag(self, tag):
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag == "a" and self.links:
            # keep the target of a link whose text hides it, the way text mail writes links
            href, start = self.links.pop()
            text = "".join(self.out[start:]).strip()
            if text and href.startswith(("http://", "https://")) and href not in text:
                self.out.append(f" <{href}>")
        elif tag == "blockquote":
            self.out.append(_QUOTE_CLOSE)
        elif tag in _PARA_TAGS:
            self.out.append(_PARA)
            self.pre = max(0, self.pre - (tag == "pre"))
        elif tag in _BLOCK_TAGS:
            self.out.append(_BLOCK)

    def handle_data(self, data):
        if self.skip:
            return
        if self.pre:
            self.out.extend(re.split(r"(\n)", data.replace("\r\n", "\n")))
        else:
            self.out.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def html_to_text(html: str) -> str:
    """Readable text from mail HTML; blockquotes come out `> `-quoted like a text client would."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient, but keep the text if it gives up
        return re.sub(r"<[^>]+>", " ", html)
    lines: list[str] = []
    current, depth, line_depth = "", 0, 0

    def finish():
        nonlocal current, line_depth
        line = re.sub(r" ?\t ?", "\t", current.replace("\xa0", " ")).strip(" \t")
        lines.append(("> " * line_depth + line).rstrip())
        current, line_depth = "", depth

    for token in parser.out:
        if token == _BR:
            finish()
        elif token in (_BLOCK, _PARA, _QUOTE_OPEN, _QUOTE_CLOSE):
            if current.strip(" \t\xa0"):
                finish()
            if token == _PARA and lines and lines[-1].strip("> "):
                lines.append(">" * bool(depth))
            depth += (token == _QUOTE_OPEN) - (token == _QUOTE_CLOSE and depth > 0)
            current, line_depth = "", depth
        elif current or token.strip(" \t\xa0"):
            current += token
    finish()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# Quoted history --------------------------------------------------------------------------------

_ATTRIBUTION_END = re.compile(
    r"(wrote|writes|schrieb|a [ée]crit|escribi[óo]|ha scritto|schreef|escreveu|skrev|napisa[łl]|"
    r"написал[а]?|kirjoitti|írta|napsal[a]?)\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(
    r"^\s*(on|am|le|el|il|op|em|den|dne|w dniu|på|el día|\d)\b", re.IGNORECASE
)
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|"
    r"messaggio originale|oorspronkelijk bericht|původní zpráva|oryginalna wiadomość|"
    r"исходное сообщение|原始邮件)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HDR_FROM = re.compile(r"^\s*\*?(from|von|de|van|från|fra|od|da|от)\s*:\*?\s*\S", re.IGNORECASE)
_HDR_OTHER = re.compile(
    r"^\s*\*?(sent|date|gesendet|datum|envoy[ée]|enviado|verzonden|skickat|sendt|wysłano|"
    r"отправлено|to|an|à|para|aan|till|til|do|a|кому|subject|betreff|objet|asunto|onderwerp|"
    r"ämne|emne|temat|тема|cc)\s*:",
    re.IGNORECASE,
)


def _history_cut(lines: list[str]) -> int | None:
    """Index where an Outlook-style history starts (separator or From:/Sent: block), else None."""
    for i, line in enumerate(lines):
        if _SEPARATOR.match(line):
            return i
        if _HDR_FROM.match(line):
            following = [ln for ln in lines[i + 1 : i + 6] if ln.strip()]
            if sum(1 for ln in following[:4] if _HDR_OTHER.match(ln)) >= 2:
                if i > 0 and re.fullmatch(r"\s*_{10,}\s*", lines[i - 1]):
                    return i - 1
                return i
    return None


def trim_quoted(text: str) -> str:
    """Drop quoted reply history that leads or trails the new text; keep interleaved quotes.

    A quote in the middle is the context an answer refers to, and a signature after a quote is
    still the writer's own text, so only history at either end is removed.
    """
    lines = text.split("\n")
    cut = _history_cut(lines)
    if cut is not None:
        lines = lines[:cut]
    kinds = []
    for line in lines:
        stripped = line.strip()
        kinds.append("q" if stripped.startswith(">") else "b" if not stripped else "t")
    # attribution lines ("On <date>, <name> wrote:", wrapped over up to 3 lines) before a quote
    for j, line in enumerate(lines):
        if kinds[j] != "t" or not _ATTRIBUTION_END.search(line):
            continue
        if next((k for k in kinds[j + 1 :] if k != "b"), None) != "q":
            continue
        start = j
        if not _ATTRIBUTION_START.match(line):
            start = next(
                (i for i in (j - 1, j - 2) if i >= 0 and _ATTRIBUTION_START.match(lines[i])), j
            )
            if any(k != "t" for k in kinds[start:j]):
                start = j
        for i in range(start, j + 1):
            kinds[i] = "a"
    end = len(lines)
    while end and kinds[end - 1] in "qab":
        end -= 1
    if "q" not in kinds[end:]:
        end = len(lines)
    start = 0
    while start < end and kinds[start] in "qab":
        start += 1
    # a quote at the top answered below it is bottom-posting; more quotes further down make
    # it an interleaved reply, where every quote is the question to the answer under it
    if "q" not in kinds[:start] or "q" in kinds[start:end]:
        start = 0
    return "\n".join(lines[start:end]).strip("\n")


# Signatures ------------------------------------------------------------------------------------

_SENT_FROM = re.compile(
    r"^\s*(sent from my .{1,40}|sent from (mail|outlook|yahoo mail|samsung|proton ?mail)\b.{0,40}|"
    r"get outlook for .{1,30}|sent (from|with|via) .{0,30}(iphone|ipad|android|blackberry|mobile|"
    r"galaxy|phone|outlook)\b.{0,20}|von meinem .{1,40} gesendet|gesendet von .{0,20}(iphone|ipad|"
    r"android|mobil|outlook).{0,20}|envoy[ée] de mon .{1,40}|enviado desde mi .{1,40}|"
    r"inviato da(l mio)? .{1,40}|verzonden (vanaf|met) (mijn )?.{1,40}|skickat från min .{1,40}|"
    r"sendt fra min .{1,40}|wysłane z .{1,40}|отправлено с .{1,40})\s*$",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"^\s*\**\s*(confidentiality( notice| note)?|disclaimer|legal notice|"
    r"(this|the) (e-?mail|message|communication)( and any (attachments?|files?)( transmitted with it)?)?"
    r" (is|are|may|and any|contains?)\b|the information (contained )?in this (e-?mail|message)|"
    r"diese (e-?mail|nachricht) (enthält|ist|kann)|ce (message|courriel|e-?mail) (et |est |peut )|"
    r"este (mensaje|correo) (y |es |contiene |puede ))",
    re.IGNORECASE,
)
_DISCLAIMER_WORDS = re.compile(
    r"confidential|privilege|intended (solely )?(only )?for|intended recipient|vertraulich|"
    r"bestimmt|empfänger|destinataire|destinatario|riservat",
    re.IGNORECASE,
)
_VALEDICTION = re.compile(
    r"^\s*(best|best regards|best wishes|kind regards|warm regards|warmest regards|regards|"
    r"many thanks|thanks|thanks a lot|thanks again|thanks in advance|thank you|thank you very much|"
    r"cheers|sincerely|yours|yours sincerely|yours truly|all the best|br|"
    r"mit freundlichen grüßen|mit freundlichen gruessen|freundliche grüße|viele grüße|beste grüße|"
    r"liebe grüße|schöne grüße|gruß|grüße|mfg|lg|vg|cordialement|bien cordialement|bien à vous|"
    r"salutations|saludos|saludos cordiales|un saludo|atentamente|cordiali saluti|distinti saluti|"
    r"saluti|met vriendelijke groet|met vriendelijke groeten|groeten|vriendelijke groet|"
    r"med vänliga hälsningar|vänliga hälsningar|hälsningar|med venlig hilsen|venlig hilsen|"
    r"med vennlig hilsen|mvh|pozdrawiam|z poważaniem|s pozdravem|с уважением|atenciosamente|"
    r"abraços|obrigado|obrigada|gracias|merci|danke|grazie|bedankt|tack)\s*[,.!]*\s*$",
    re.IGNORECASE,
)
_NAME_LIKE = re.compile(r"^\s*[^\W\d_][^\d@:/|<>()\[\]]{0,40}$")
_SIG_TAIL_LINES = 20  # a "-- " block longer than this is not a signature but content
_VALEDICTION_TAIL_LINES = 8


def _blank_tail(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def trim_signature(text: str) -> tuple[str, str]:
    """Split a trailing signature off: (text, signature). A signature is a `-- ` block,
    "Sent from my phone" lines, a legal disclaimer, or the contact block under a closing
    ("Best regards," and the name after it stay with the text).

    Only the end of the text is looked at, never a quote or a sentence, and text that would
    come out empty keeps everything.
    """
    lines = _blank_tail(text.split("\n"))
    while lines and _SENT_FROM.match(lines[-1]):
        lines = _blank_tail(lines[:-1])
    # a disclaimer paragraph (after a blank line) and everything under it
    for i in range(len(lines) - 1, 0, -1):
        if not lines[i - 1].strip() and _DISCLAIMER.match(lines[i]):
            if _DISCLAIMER_WORDS.search(" ".join(lines[i : i + 8])):
                lines = _blank_tail(lines[:i])
            break
    # RFC 3676 "-- " (clients often drop the space); the last one wins
    for i in range(len(lines) - 1, 0, -1):
        if lines[i].rstrip() == "--":
            tail = [ln for ln in lines[i + 1 :] if ln.strip()]
            # without its space, "--" may be a separator in pasted output: be stricter
            limit = _SIG_TAIL_LINES if lines[i] == "-- " else 6
            if len(tail) <= limit and not any(ln.lstrip().startswith(">") for ln in tail):
                lines = _blank_tail(lines[:i])
            break
    # "Regards,\nName\nTitle\nPhone": keep the closing and the name, drop the contact block
    text_lines = [i for i, ln in enumerate(lines) if ln.strip()]
    last = len(text_lines) - 1
    for pos in range(last - 1, max(0, last - _VALEDICTION_TAIL_LINES), -1):
        i = text_lines[pos]
        if not _VALEDICTION.match(lines[i]):
            continue
        name, *contact = (lines[j] for j in text_lines[pos + 1 :])
        if contact and _is_name(name) and not any(_is_prose(ln) for ln in contact):
            lines = lines[: text_lines[pos + 1] + 1]
        break
    kept = "\n".join(lines).rstrip()
    if not kept.strip():
        return text, ""
    return kept, text[len(kept) :].strip("\n")  # lines only ever lost their tail


def _is_name(line: str) -> bool:
    return bool(_NAME_LIKE.match(line)) and len(line.split()) <= 5


def _is_prose(line: str) -> bool:
    """A sentence or a quote: text a signature does not hold."""
    stripped = line.strip()
    return (
        len(stripped) > 80
        or stripped.startswith(">")
        or bool(re.match(r"p\.?\s?s\.?\b", stripped, re.IGNORECASE))
        or (stripped[-1:] in ".?!:" and len(stripped.split()) >= 6)
    )


# MIME walk -------------------------------------------------------------------------------------


def _disposition(part: MimePart) -> str:
    value = part.get("Content-Disposition")
    if value is None:
        return ""
    return str(value).split(";", 1)[0].strip().lower()


def _clean_filename(name: str) -> str:
    name = re.sub(r"[\x00-\x1f\x7f]+", " ", name)
    # Keep the last path component: clients leak "C:\TEMP\x.png", attackers send "../../x".
    name = re.split(r"[\\/]", name)[-1]
    return _clean_spaces(name)


def _raw_params(part: MimePart, header: str) -> dict[str, object]:
    """Parameters of a header from its raw value, so undeclared 8-bit bytes survive.

    (Message.get_param reads through compat32's sanitiser, which turns such bytes into "?".)
    """
    raw = next((v for n, v in part.raw_items() if n.lower() == header), None)
    if raw is None:
        return {}
    text = _unfold(_header_bytes(raw)).decode("latin-1")
    pairs = []
    for item in re.findall(r'(?:[^;"]|"(?:[^"\\]|\\.)*"?)+', text)[1:]:
        key, sep, value = item.partition("=")
        if sep:
            pairs.append((key.strip().lower(), value.strip()))
    try:
        decoded = email.utils.decode_params([("", ""), *pairs])[1:]
    except Exception:  # broken RFC 2231 continuations
        decoded = [(k, email.utils.unquote(v)) for k, v in pairs]
    # decode_params hands values back quoted, RFC 2231 ones as (charset, language, text)
    return {
        k: email.utils.unquote(v) if isinstance(v, str) else (v[0], v[1], email.utils.unquote(v[2]))
        for k, v in decoded
    }


def _filename(part: MimePart, hints) -> str | None:
    value = _raw_params(part, "content-disposition").get("filename")
    value = value or _raw_params(part, "content-type").get("name")
    if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded latin-1 text)
        charset, _lang, text = value
        name = decode_bytes(text.encode("latin-1", "replace"), charset or None, hints)
    elif value:
        name = decode_header_value(value.encode("latin-1", "replace"), hints)
    else:
        return None
    return _clean_filename(name) or None


def _cid(part: MimePart) -> str:
    value = part.get("Content-ID")
    return str(value).strip().strip("<>").strip() if value else ""


def _payload(part: MimePart) -> bytes:
    if part.get_content_maintype() == "message" or part.is_multipart():
        # serialise the part and drop its own header block: what remains is the attached mail
        buf = BytesIO()
        try:
            BytesGenerator(buf, mangle_from_=False, policy=email.policy.compat32).flatten(part)
        except Exception:  # fall back to the text form of what was parsed
            return str(part.get_payload()).encode("utf-8", "surrogateescape")
        data = buf.getvalue()
        cut = re.search(rb"\r?\n\r?\n", data)
        return data[cut.end() :] if cut else b""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a damaged part must not stop the parse
        data = None
    if data is None:
        data = _header_bytes(part.get_payload() or "")
    return data


_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_:.-]+)", re.IGNORECASE)


def _part_text(part: MimePart, hints) -> str:
    data = _payload(part)
    charset = part.get_content_charset()
    if not charset and part.get_content_subtype() == "html":
        match = _META_CHARSET.search(data[:4096])  # HTML that names its charset only inside
        charset = match.group(1).decode("ascii") if match else None
    text = decode_bytes(data, charset, hints)
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _Walk:
    """Collects body pieces [(subtype, text)] and attachments while walking a MIME tree."""

    def __init__(self, hints):
        self.hints = hints
        self.body: list[tuple[str, str]] = []
        self.attachments: list[Attachment] = []
        self.html_parts: list[str] = []
        self.alternatives_html: list[str] = []

    def attach(self, part: MimePart, inline_hint=False):
        payload = _payload(part)
        cid = _cid(part) or None
        ctype = part.get_content_type()
        att = Attachment(
            filename=_filename(part, self.hints),
            content_type=ctype,
            size=len(payload),
            payload=payload,
            content_id=cid,
            is_inline=_disposition(part) == "inline" or (inline_hint and bool(cid)),
            charset=part.get_content_charset() if part.get_content_maintype() == "text" else None,
        )
        if ctype in ("application/ms-tnef", "application/vnd.ms-tnef") or (
            (att.filename or "").lower() == "winmail.dat"
        ):
            att.extracted = _tnef_files(payload)
        self.attachments.append(att)

    def is_body_part(self, part: MimePart) -> bool:
        if part.get_content_type() not in ("text/plain", "text/html"):
            return False
        if _disposition(part) == "attachment":
            return False
        return _filename(part, self.hints) is None

    def walk(self, part: MimePart, in_related=False):
        ctype = part.get_content_type()
        if part.get_content_maintype() == "message":
            # compat32 parses message/* as multipart; an attached mail is one attachment
            self.attach(part)
        elif part.is_multipart():
            children = [p for p in part.get_payload() if isinstance(p, MimePart)]
            if ctype == "multipart/alternative":
                self.alternative(children)
            elif ctype == "multipart/related":
                # RFC 2387: the root (the "start" part, else the first) is the content, the
                # other parts are resources it refers to (inline images and the like)
                start = str(part.get_param("start") or "").strip().strip("<>")
                root = next((c for c in children if _cid(c) == start), None) if start else None
                root = root or (children[0] if children else None)
                for child in children:
                    self.walk(child, in_related=in_related or child is not root)
            else:
                for child in children:
                    self.walk(child, in_related=in_related)
        elif ctype.startswith("multipart/"):
            # a multipart whose boundary never appears: all there is, is its text
            self.body.append(("plain", _part_text(part, self.hints)))
        elif self.is_body_part(part) and not in_related:
            text = _part_text(part, self.hints)
            if part.get_content_subtype() == "html":
                self.html_parts.append(text)
            self.body.append((part.get_content_subtype(), text))
        else:
            self.attach(part, inline_hint=in_related)

    def alternative(self, children: list[MimePart]):
        walks = []
        for child in children:
            sub = _Walk(self.hints)
            sub.walk(child)
            walks.append(sub)

        def has_text(w, kind):
            return any(k == kind and t.strip() for k, t in w.body)

        chosen = next((w for w in walks if has_text(w, "plain")), None)
        chosen = chosen or next((w for w in walks if has_text(w, "html")), None)
        chosen = chosen or next((w for w in walks if w.body), walks[0] if walks else None)
        for w in walks:
            if w is chosen:
                self.body.extend(w.body)
            else:
                # the other renderings' text parts are that rendering, not files
                self.alternatives_html.extend(w.html_parts)
            self.html_parts.extend(w.html_parts if w is chosen else [])
            self.attachments.extend(w.attachments)


def _tnef_files(payload: bytes) -> list[Attachment]:
    """Unpack Outlook's winmail.dat; a damaged container yields what could be read."""
    files: list[Attachment] = []
    try:
        for item in TNEF(payload).attachments:
            data = bytes(item.data or b"")
            name = item.long_filename() or item.name
            name = decode_bytes(name) if isinstance(name, bytes) else str(name or "")
            name = _clean_filename(name) or None
            ctype = (mimetypes.guess_type(name)[0] if name else None) or "application/octet-stream"
            files.append(Attachment(name, ctype, len(data), data))
    except Exception:  # tnefparse raises bare exceptions (ValueError, struct.error) on bad data
        return files
    return files


def _extract_uuencoded(text: str) -> tuple[str, list[Attachment]]:
    """Pull `begin 644 name` ... `end` blocks out of a text body as attachments."""
    if "begin " not in text:
        return text, []
    lines, out, files = text.split("\n"), [], []
    i = 0
    while i < len(lines):
        match = UUE_BEGIN.match(lines[i].rstrip())
        end = None
        if match:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "end"), None)
        if end is None:
            out.append(lines[i])
            i += 1
            continue
        data = bytearray()
        for line in lines[i + 1 : end]:
            if not line.strip() or line.strip() == "`":
                continue
            try:
                data += binascii.a2b_uu(line)
            except (binascii.Error, ValueError):
                try:  # some encoders pad lines short; decode what the length byte promises
                    nbytes = (ord(line[0]) - 32) & 63
                    data += binascii.a2b_uu(line[: ((nbytes + 2) // 3) * 4 + 1])
                except (binascii.Error, ValueError, IndexError):
                    continue
        name = _clean_filename(match.group(1)) or None
        ctype = (mimetypes.guess_type(name)[0] if name else None) or "application/octet-stream"
        files.append(Attachment(name, ctype, len(data), bytes(data)))
        i = end + 1
    return "\n".join(out), files


# Raw message repair ----------------------------------------------------------------------------

_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")


def _repair(raw: bytes) -> bytes:
    """Fix the header block so the stdlib parser sees what the sender meant.

    Bare-CR line ends (classic Mac) become LF; junk lines before the first header are dropped;
    a header line that lost its folding whitespace (seen in forwarded Exchange mail) is re-folded
    when more headers follow it, otherwise it is where the body starts.
    """
    if b"\n" not in raw and b"\r" in raw:
        raw = raw.replace(b"\r", b"\n")
    head_end = re.search(rb"\r?\n\r?\n", raw)
    head, rest = (raw[: head_end.start()], raw[head_end.start() :]) if head_end else (raw, b"")
    lines = head.split(b"\n")
    out: list[bytes] = []
    seen_header = False
    for i, line in enumerate(lines):
        bare = line.rstrip(b"\r")
        if (i == 0 and bare.startswith(b"From ")) or _HEADER_LINE.match(bare):
            seen_header = seen_header or not bare.startswith(b"From ")
            out.append(line)
        elif bare[:1] in (b" ", b"\t"):
            out.append(line)
        elif not seen_header:
            if any(_HEADER_LINE.match(ln) for ln in lines[i + 1 : i + 4]):
                continue  # junk before the headers
            return raw
        elif any(_HEADER_LINE.match(ln) for ln in lines[i + 1 :]):
            out.append(b" " + line)
        else:
            out.append(b"")
            out.extend(lines[i:])
            break
    # Unfold: a folded boundary parameter keeps its space only when unfolded (RFC 5322 2.2.3).
    return re.sub(rb"\r?\n(?=[ \t])", b"", b"\n".join(out)) + rest


# Auto-replies ----------------------------------------------------------------------------------


def _auto_reply_reason(msg: MimePart, from_address: str, from_name: str, subject: str):
    """(reason, is_bounce) for machine-sent mail; ("", False) for mail a person wrote."""
    get = msg.get
    # "From: MAILER-DAEMON <>": with no address, the name is all that identifies the sender
    local = from_address.rsplit("@", 1)[0] if "@" in from_address else from_address or from_name
    local = local.replace("_", "").replace(".", "-")
    ctype = msg.get_content_type()
    report_type = (
        (msg.get_param("report-type") or "").lower() if ctype == "multipart/report" else ""
    )
    part_types = {p.get_content_type() for p in msg.walk()}
    if ctype == "multipart/report" or "message/delivery-status" in part_types:
        is_dsn = report_type in ("", "delivery-status") or "message/delivery-status" in part_types
        return f"multipart/report ({report_type or 'delivery-status'})", is_dsn
    if get("X-Failed-Recipients"):
        return "X-Failed-Recipients", True
    if ROBOT_LOCALPART.match(local):
        return f"sender {from_address or from_name}", True
    if LIST_ROBOT_LOCALPART.match(local) and any(get(h) for h in LIST_HEADERS):
        return f"mailing list server {from_address}", False
    if BOUNCE_SUBJECT.search(subject) and (
        str(get("Return-Path", "")).strip() == "<>"
        or any(
            p.get_content_type() in ("message/rfc822", "text/rfc822-headers") for p in msg.walk()
        )
        or re.match(r"(no-?reply|mail-?delivery|mailerdaemon|sysadmin)", local, re.IGNORECASE)
    ):
        return f"bounce subject {subject!r}", True
    auto = str(get("Auto-Submitted", "") or "").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}", False
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated"):
        value = get(name)
        if value is not None and str(value).strip().lower() not in ("no", "false", "0"):
            return name, False
    suppress = str(get("X-Auto-Response-Suppress", "") or "").lower()
    if re.search(r"\b(all|oof|autoreply)\b", suppress):
        return f"X-Auto-Response-Suppress: {suppress}", False
    precedence = str(get("Precedence", "") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply", "auto-reply"):
        return f"Precedence: {precedence}", False
    if str(get("X-Apple-Action", "") or "").strip().upper() == "VACATION":
        return "X-Apple-Action: VACATION", False
    if AUTO_SUBJECT.match(subject):
        return f"auto-reply subject {subject!r}", False
    if str(get("Return-Path", "")).strip() == "<>":
        return "null Return-Path", False
    return "", False


# Entry point -----------------------------------------------------------------------------------


def _first(msg: MimePart, name: str, hints) -> str:
    values = [v for n, v in msg.raw_items() if n.lower() == name.lower()]
    return decode_header_value(values[0], hints) if values else ""


def _all(msg: MimePart, name: str) -> list:
    return [v for n, v in msg.raw_items() if n.lower() == name.lower()]


def _charset_hints(msg: MimePart) -> tuple[str, ...]:
    hints = []
    for part in msg.walk():
        charset = part.get_param("charset")
        if isinstance(charset, str) and charset.lower() not in hints:
            hints.append(charset.lower())
    return tuple(h for h in hints if h not in ("us-ascii", "ascii", "utf-8", "utf8"))


_DATE_PREFIX = re.compile(
    r"^\s*(?:[A-Za-z]{3},?\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\s*(?:[+-]\d{4}|[A-Z]{1,5}\b))?"
)


def _date(value: str) -> datetime | None:
    # The well-formed prefix first: some senders run the next header into the Date line.
    match = _DATE_PREFIX.match(value)
    for candidate in (match.group(0) if match else None, value):
        if candidate:
            try:
                return parsedate_to_datetime(candidate.strip())
            except (TypeError, ValueError, IndexError, OverflowError):
                continue
    return None


def parse_message(raw: bytes) -> ParsedEmail:
    """Parse one raw message; see the module docstring for what is guaranteed."""
    try:
        return _parse(raw)
    except Exception:  # last resort: a message we cannot read is still stored
        text = decode_bytes(raw or b"")
        return ParsedEmail(body_text=text, full_text=text)


def _parse(raw: bytes) -> ParsedEmail:
    msg = email.message_from_bytes(_repair(raw or b""), policy=email.policy.compat32)
    hints = _charset_hints(msg)
    parsed = ParsedEmail()

    senders = _parse_addresses(_all(msg, "From"), hints)
    sender = next((s for s in senders if "@" in s[1]), senders[0] if senders else ("", ""))
    parsed.from_name, parsed.from_address = sender[0], sender[1].lower()
    parsed.subject = _clean_spaces(_first(msg, "Subject", hints))
    parsed.to = _addresses(_all(msg, "To"), hints)
    parsed.cc = _addresses(_all(msg, "Cc"), hints)
    parsed.reply_to = _addresses(_all(msg, "Reply-To"), hints)
    parsed.delivered_to = _addresses(_all(msg, "Delivered-To") + _all(msg, "X-Original-To"), hints)
    ids = MSGID.findall(_first(msg, "Message-ID", hints))
    parsed.message_id = f"<{ids[0]}>" if ids else ""
    ids = MSGID.findall(_first(msg, "In-Reply-To", hints))
    parsed.in_reply_to = f"<{ids[0]}>" if ids else ""
    parsed.references = [f"<{i}>" for i in MSGID.findall(_first(msg, "References", hints))]
    parsed.date = _date(_first(msg, "Date", hints))

    walk = _Walk(hints)
    if msg.is_multipart() or msg.get_content_maintype() == "message":
        walk.walk(msg)
    elif (
        msg.get_content_type() in ("text/plain", "text/html") and _disposition(msg) != "attachment"
    ):
        text = _part_text(msg, hints)
        walk.body.append((msg.get_content_subtype(), text))
        if msg.get_content_subtype() == "html":
            walk.html_parts.append(text)
    else:
        walk.walk(msg)

    if not any(text.strip() for _kind, text in walk.body):
        # Only named inline text parts: they are files, but also all the text there is to show.
        walk.body = [
            (att.content_type.split("/")[1], decode_bytes(att.payload, att.charset, hints))
            for att in walk.attachments
            if att.content_type in ("text/plain", "text/html") and att.is_inline
        ]
    pieces = []
    for kind, text in walk.body:
        if kind == "html":
            pieces.append(html_to_text(text))
        else:
            text, files = _extract_uuencoded(text)
            walk.attachments.extend(files)
            pieces.append(text)
    full = "\n\n".join(p.strip("\n") for p in pieces if p.strip())
    full = unicodedata.normalize("NFC", full.replace("\r\n", "\n"))
    parsed.full_text = full
    parsed.body_html = "\n".join(walk.html_parts) or "\n".join(walk.alternatives_html)
    # A forward's "history" is what the sender wants us to read: keep it whole.
    forward = bool(FORWARD_SUBJECT.match(parsed.subject))
    body = full.strip() if forward else trim_quoted(full).strip()
    if not body and walk.alternatives_html:
        # the text alternative held only quoted history; the HTML one may say more
        body = trim_quoted(html_to_text("\n".join(walk.alternatives_html))).strip()
    parsed.body_text = body or full.strip()
    if forward:
        parsed.shown_text = parsed.body_text
    else:
        shown, parsed.signature = trim_signature(parsed.body_text)
        # a quote the signature followed now trails the text: history, like any trailing quote
        parsed.shown_text = (trim_quoted(shown).strip() or shown) if parsed.signature else shown
    parsed.attachments = walk.attachments

    reason, bounce = _auto_reply_reason(msg, parsed.from_address, parsed.from_name, parsed.subject)
    parsed.is_auto_reply, parsed.is_bounce, parsed.auto_reply_reason = bool(reason), bounce, reason
    return parsed
