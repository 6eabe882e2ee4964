"""One search over knowledge-base articles, forum threads and tickets.

Each searchable item has one SearchEntry row (title, plain-text body, who may see it). The
full-text index lives beside it: a weighted, generated tsvector with a GIN index on Postgres
(ranked by ts_rank_cd, snippets by ts_headline, websearch syntax); an FTS5 table kept in step by
triggers on SQLite (ranked by bm25, snippets by snippet()). Both backends take the same query
syntax: words, "quoted phrases", -excluded words and `or`; the last word also matches as a
prefix, so results appear while a word is still being typed.

Permissions are part of the SQL: anonymous visitors match only public rows, customers public
rows and their own tickets, staff everything. Nothing is filtered in Python after the LIMIT.
"""

import html
import re
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from helpdesk.models import SearchEntry, SearchLog
from helpdesk.params import parse_id
from helpdesk.roles import is_agent
from helpdesk.together import Collector

MAX_QUERY = 200
MAX_BODY_CHARS = 20_000
COUNT_CAP = 1000
# Postgres ranks at most this many matches of each kind, the most recently updated: a very
# common word matches hundreds of thousands of rows, and ranking them all is what makes
# full-text search slow. A group per kind, so that neither threads nor tickets can crowd an
# older article out of the results.
CANDIDATES = {"article": 1000, "thread": 1000, "ticket": 1000}
KIND_WEIGHT = {"article": 1.3, "thread": 1.1, "ticket": 1.0}
_MARK_OPEN, _MARK_CLOSE = "\x02", "\x03"
THREAD_UNANSWERED, THREAD_ANSWERED, THREAD_ANSWERED_BY_STAFF = (
    "unanswered",
    "answered",
    "answered_by_staff",
)
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


# Plain text for the index -------------------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag in {"p", "br", "li", "pre", "div", "h1", "h2", "h3", "h4", "tr"}:
            self.parts.append("\n")


def plain_text(stored_html: str) -> str:
    parser = _Text()
    parser.feed(stored_html or "")
    return re.sub(r"[ \t]+", " ", "".join(parser.parts)).strip()


# Keeping the index current ------------------------------------------------------------------


def _upsert(kind: str, object_id: int, **values) -> None:
    values["body"] = (values.get("body") or "")[:MAX_BODY_CHARS]
    values["title"] = (values.get("title") or "")[:255]
    values.setdefault("updated_at", timezone.now())
    SearchEntry.objects.update_or_create(kind=kind, object_id=object_id, defaults=values)


def remove(kind: str, object_id: int) -> None:
    SearchEntry.objects.filter(kind=kind, object_id=object_id).delete()


def index_article(article_id: int) -> None:
    from kb.models import Article

    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        return remove("article", article_id)
    public = article.status == "published" and article.visibility == "public"
    _upsert(
        "article",
        article.pk,
        title=article.title,
        body=" ".join(filter(None, [article.summary, plain_text(article.body_html)])),
        url=article.get_absolute_url(),
        is_public=public,
        owner=None,
        status=article.status,
        queue_id=None,
        is_answered=True,
        updated_at=article.updated_at,
    )


def index_thread(thread_id: int) -> None:
    from forum.models import Post, Thread

    thread = Thread.objects.filter(pk=thread_id).first()
    if thread is None:
        return remove("thread", thread_id)
    posts = Post.objects.filter(thread=thread, is_hidden=False).order_by("created_at", "id")
    body = "\n".join(plain_text(p) for p in posts.values_list("body_html", flat=True)[:200])
    # Answered means an accepted answer, as in the forum's lists; a staff reply alone is not
    # one. The status says whose answer it is, so results read "Answered by staff" without a
    # join. (Thread statuses never equal a ticket status, so agents' status filter skips them.)
    answered = thread.accepted_post_id is not None
    if not answered:
        status = THREAD_UNANSWERED
    elif thread.is_answered_by_staff:
        status = THREAD_ANSWERED_BY_STAFF
    else:
        status = THREAD_ANSWERED
    _upsert(
        "thread",
        thread.pk,
        title=thread.title,
        body=body,
        url=thread.get_absolute_url(),
        is_public=not thread.is_hidden,
        owner=None,
        status=status,
        queue_id=None,
        is_answered=answered,
        updated_at=thread.last_activity_at,
    )


def index_ticket(ticket_id: int) -> None:
    """Tickets are indexed with their public conversation only: internal notes never reach an
    index row, so they cannot leak into a customer's snippet. (One ticket of index_tickets.)"""
    index_tickets([ticket_id])


def index_tickets(ticket_ids) -> None:
    """`index_ticket` for many tickets with a handful of statements: one read of the tickets,
    one of their messages, and one upsert (INSERT ... ON CONFLICT) for all entries."""
    from tickets.models import Message, Ticket

    ids = sorted(set(ticket_ids))
    tickets = Ticket.objects.filter(pk__in=ids, merged_into__isnull=True).in_bulk()
    gone = [pk for pk in ids if pk not in tickets]
    if gone:
        SearchEntry.objects.filter(kind="ticket", object_id__in=gone).delete()
    texts = defaultdict(list)
    # A ticket with a long conversation reads its first 100 public messages on its own.
    short = [pk for pk, t in tickets.items() if t.message_count <= 100]
    rows = (
        Message.objects.filter(ticket_id__in=short, is_internal=False)
        .order_by("ticket_id", "id")
        .values_list("ticket_id", "body")
    )
    for ticket_id, body in rows:
        texts[ticket_id].append(body)
    for pk in tickets.keys() - set(short):
        texts[pk] = list(
            Message.objects.filter(ticket_id=pk, is_internal=False)
            .order_by("id")
            .values_list("body", flat=True)[:100]
        )
    entries = [
        SearchEntry(
            kind="ticket",
            object_id=t.pk,
            title=f"#{t.pk} {t.subject}"[:255],
            body="\n".join(texts[t.pk][:100])[:MAX_BODY_CHARS],
            url=t.get_absolute_url(),
            is_public=False,
            owner_id=t.requester_id,
            status=t.status,
            queue_id=t.queue_id,
            is_answered=t.first_response_at is not None,
            updated_at=t.updated_at,
        )
        for t in tickets.values()
    ]
    SearchEntry.objects.bulk_create(
        entries,
        update_conflicts=True,
        unique_fields=["kind", "object_id"],
        update_fields=[
            "title",
            "body",
            "url",
            "is_public",
            "owner",
            "status",
            "queue_id",
            "is_answered",
            "updated_at",
        ],
    )


INDEXERS = {"article": index_article, "thread": index_thread, "ticket": index_ticket}


_together = Collector(set)


def schedule(kind: str, object_id: int) -> None:
    """Re-index after the current transaction commits (cheap: one row, done inline). Several
    changes to one item in one transaction re-index it once."""
    key = (kind, object_id)
    pending = _together.pending
    if pending is not None:
        # Counted only if the change's own savepoint commits, like any on-commit callback.
        transaction.on_commit(lambda: pending.add(key))
        return
    # Django keeps pending on-commit callbacks in run_on_commit and empties it on rollback, so
    # looking there (rather than in a set of our own) cannot go stale.
    for _sids, func, *_rest in getattr(connection, "run_on_commit", []):
        if getattr(func, "search_key", None) == key and not getattr(func, "done", False):
            return

    def run():
        run.done = True
        INDEXERS[kind](object_id)

    run.search_key = key
    transaction.on_commit(run)


@contextmanager
def indexed_together():
    """Use inside transaction.atomic(): the items the block schedules are re-indexed together
    after the commit (tickets with one upsert for all; see index_tickets), not one by one."""
    with _together.block() as pending:
        yield
    transaction.on_commit(lambda: _index_together(pending))


def _index_together(keys: set) -> None:
    by_kind = defaultdict(list)
    for kind, object_id in keys:
        by_kind[kind].append(object_id)
    with transaction.atomic():
        if by_kind.get("ticket"):
            index_tickets(by_kind.pop("ticket"))
        for kind, object_ids in by_kind.items():
            for object_id in object_ids:
                INDEXERS[kind](object_id)


def rebuild(*, progress=None, batch: int = 500) -> int:
    """Index every item again; `progress(kind, done, total)` is called after each batch."""
    from forum.models import Thread
    from kb.models import Article
    from tickets.models import Ticket

    done_all = 0
    for kind, model in (("article", Article), ("thread", Thread), ("ticket", Ticket)):
        ids = list(model.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), batch):
            with transaction.atomic():
                for pk in ids[start : start + batch]:
                    INDEXERS[kind](pk)
            done_all += len(ids[start : start + batch])
            if progress:
                progress(kind, min(start + batch, len(ids)), len(ids))
        known = set(ids)
        stale = (
            SearchEntry.objects.filter(kind=kind).exclude(object_id__in=known)
            if len(known) < 50_000
            else SearchEntry.objects.none()
        )
        stale.delete()
    return done_all


# Querying -----------------------------------------------------------------------------------


@dataclass
class Hit:
    entry_id: int
    kind: str
    title_html: str
    snippet_html: str
    url: str
    status: str
    is_answered: bool
    updated_at: object


@dataclass
class Results:
    query: str
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    total_is_capped: bool = False
    has_next: bool = False
    message: str = ""
    log_id: int | None = None
    relaxed: bool = False


def normalise(query: str) -> str:
    """Collapse whitespace, drop control characters (NUL cannot even be stored), cut to length."""
    query = re.sub(r"[\x00-\x1f\x7f]", " ", query or "")
    return " ".join(query.split())[:MAX_QUERY]


@dataclass
class _Parsed:
    include: list[tuple[str, bool]]  # (text, is_phrase)
    exclude: list[str]
    any_of: bool


def _parse(query: str) -> _Parsed:
    """Split typed text into included terms (word or phrase), excluded terms and `or`."""
    parsed = _Parsed(include=[], exclude=[], any_of=False)
    for neg, phrase, word in _TOKEN.findall(query):
        if word.lower() == "or":
            parsed.any_of = True
            continue
        is_quoted = not word
        negated = bool(neg) if is_quoted else word.startswith("-") and len(word) > 1
        words = re.findall(r"\w+", phrase if is_quoted else word)
        if not words:
            continue
        text = " ".join(words)
        if negated:
            parsed.exclude.append(text)
        else:
            parsed.include.append((text, is_quoted or len(words) > 1))
    return parsed


def _fts5_expression(parsed: _Parsed) -> str:
    def quote(text):
        return '"' + text.replace('"', '""') + '"'

    terms = []
    for i, (text, is_phrase) in enumerate(parsed.include):
        last = i == len(parsed.include) - 1
        terms.append(quote(text) + ("*" if last and not is_phrase and len(text) >= 2 else ""))
    expr = (" OR " if parsed.any_of else " AND ").join(terms)
    if parsed.exclude and len(terms) > 1:
        # NOT binds tighter than OR in FTS5: without the brackets `a OR b NOT c` would mean
        # `a OR (b NOT c)`, and items with a and c would slip through.
        expr = f"({expr})"
    for text in parsed.exclude:
        expr += " NOT " + quote(text)
    return expr


def _pg_tsquery(parsed: _Parsed) -> str:
    """A to_tsquery() string built from sanitised words only (never raw user syntax)."""

    def term(text, prefix):
        words = re.findall(r"\w+", text)
        joined = " <-> ".join(words)
        return f"({joined}{':*' if prefix and len(words) == 1 else ''})"

    parts = []
    for i, (text, is_phrase) in enumerate(parsed.include):
        last = i == len(parsed.include) - 1
        parts.append(term(text, last and not is_phrase and len(text) >= 2))
    expr = (" | " if parsed.any_of else " & ").join(parts)
    if parsed.exclude and len(parts) > 1:
        # & binds tighter than |: `a | b & !c` would mean `a | (b & !c)`.
        expr = f"({expr})"
    for text in parsed.exclude:
        expr += " & !" + term(text, False)
    return expr


def _visibility_sql(user, alias="e") -> tuple[str, list]:
    if is_agent(user):
        return "1=1", []
    if getattr(user, "is_authenticated", False):
        return f"({alias}.is_public OR {alias}.owner_id = %s)", [user.pk]
    return f"{alias}.is_public", []


def _filters_sql(*, user, kind, status, queue_id, alias="e") -> tuple[str, list]:
    clauses, params = [], []
    if kind in KIND_WEIGHT:
        clauses.append(f"{alias}.kind = %s")
        params.append(kind)
    if is_agent(user) and status:
        clauses.append(f"{alias}.status = %s")
        params.append(status)
    if is_agent(user) and queue_id:
        # No queue has an id out of range (or not a number): match nothing rather than let
        # the database driver overflow.
        queue_pk = parse_id(queue_id)
        if queue_pk is None:
            clauses.append("1=0")
        else:
            clauses.append(f"{alias}.queue_id = %s")
            params.append(queue_pk)
    return (" AND ".join(clauses) or "1=1"), params


def _kind_weight_sql(alias="e") -> str:
    return (
        "CASE "
        + " ".join(f"WHEN {alias}.kind = '{k}' THEN {w}" for k, w in KIND_WEIGHT.items())
        + " ELSE 1 END"
    )


def _marked_to_html(text: str) -> str:
    escaped = html.escape(text or "")
    return escaped.replace(_MARK_OPEN, "<mark>").replace(_MARK_CLOSE, "</mark>")


def search(
    *,
    user,
    query: str,
    kind: str = "",
    status: str = "",
    queue_id=None,
    limit: int = 20,
    offset: int = 0,
) -> Results:
    """Ranked results the user may see, with highlighted titles and snippets."""
    text = normalise(query)
    results = Results(query=text)
    parsed = _parse(text)
    if not parsed.include:
        results.message = "empty" if not text else "no-words"
        return results
    on_postgres = connection.vendor == "postgresql"
    # On Postgres the kind chooses the groups (one per kind, each with the visibility that
    # fits it: _group_visibility); on SQLite it is one more filter.
    flt_sql, flt_params = _filters_sql(
        user=user, kind="" if on_postgres else kind, status=status, queue_id=queue_id
    )
    if on_postgres:
        kinds = [kind] if kind in KIND_WEIGHT else list(CANDIDATES)

        def run(cursor, parsed):
            return _search_postgres(
                cursor, parsed, user, kinds, flt_sql, flt_params, limit + 1, offset
            )
    else:
        vis_sql, vis_params = _visibility_sql(user)

        def run(cursor, parsed):
            return _search_sqlite(
                cursor, parsed, vis_sql, vis_params, flt_sql, flt_params, limit + 1, offset
            )

    with connection.cursor() as cursor:
        rows, total = run(cursor, parsed)
        if not total and not parsed.any_of and len(parsed.include) > 1:
            # Nothing has every word: show what has some of them, best coverage first, and say so.
            parsed.any_of = True
            results.relaxed = True
            rows, total = run(cursor, parsed)
    results.has_next = len(rows) > limit
    rows = rows[:limit]
    results.total = total
    results.total_is_capped = total >= COUNT_CAP
    for entry_id, kind_, url, status_, answered, updated, title_marked, snippet_marked in rows:
        results.hits.append(
            Hit(
                entry_id,
                kind_,
                _marked_to_html(title_marked),
                _marked_to_html(snippet_marked),
                url,
                status_,
                bool(answered),
                updated,
            )
        )
    return results


# Postgres: each kind's newest matches, found the cheaper of two ways. The GIN index finds
# every match and the newest are sorted out of them: cheap for a rare word, but a word in
# most threads (or in a tenth of a million tickets) means fetching all of those rows. Walking
# the (kind, updated_at, id) index from the newest entry and testing each one stops after
# the candidates are found: cheap for a common word, ruinous for a rare one. Postgres's own
# choice rests on word statistics of the whole table, and on guesses for the visibility
# conditions (a customer's search walked all million tickets for the 21 that were theirs:
# fixed by _group_visibility). The statistics are good for tickets, which are most of the
# table, and poor for threads (a word in three threads out of four looked rare). So the
# newest PROBE_ROWS threads are tested first, and threads are walked when the expected walk
# (COUNT_CAP / share matched, rows read and tested) is shorter than the expected matches
# (share × entries, rows fetched from the heap): measured at a million tickets, a walked row
# cost 4-6 µs and a fetched thread match about 1 µs. Tickets are left to the planner: probing
# them too judged by the newest 200 tickets, which recent activity makes a poor sample (a
# burst of new tickets without the words sent a word in 5 % of the tickets through the index,
# 126 -> 660 ms). Either way gives the same rows, so a poor choice costs time, never results.
PROBE_ROWS = 200
# The kinds worth probing, and the table whose planner row count tells how many entries the
# kind has (pg_class.reltuples: kept by ANALYZE and autovacuum, read in microseconds).
PROBED = {"thread": "forum_thread"}


def _group_visibility(user, kind) -> tuple[str, list] | None:
    """Who may see entries of this kind, as the SQL for one kind's group (None: nobody but
    staff). Written per kind so that each group can use the index that fits: documentation
    entries are public or hidden and have no owner (index_article, index_thread); a ticket's
    entry is never public and is owned by its requester (index_tickets), so a customer's
    ticket group is read from the owner index."""
    if is_agent(user):
        return "TRUE", []
    if kind != "ticket":
        return "e.is_public", []
    if getattr(user, "is_authenticated", False):
        return "e.owner_id = %s", [user.pk]
    return None


def _chosen_ways(cursor, groups, flt_sql, flt_params, match_params) -> dict[str, str]:
    """{kind: "walk" or "index"} for the large kinds the probe could judge (see PROBED);
    the planner decides for the others. A staff filter (status, queue) is part of the
    sample and of the walk: each has its own recency index (search_status_newest,
    search_queue_newest), so the newest entries of a filtered kind are as cheap to read."""
    probes, params = [], []
    for kind, vis_sql, vis_params in groups:
        if kind not in PROBED or vis_params:
            # A customer's own tickets are a handful, read from the owner index.
            continue
        probes.append(
            f"""SELECT '{kind}'::text,
                   (SELECT reltuples FROM pg_class WHERE oid = %s::regclass),
                   count(*) FILTER (WHERE ts_match_vq(p.v, to_tsquery(%s::regconfig, %s))),
                   count(*)
                FROM (SELECT e.search_vector AS v FROM helpdesk_searchentry e
                      WHERE e.kind = '{kind}' AND {vis_sql} AND {flt_sql}
                      ORDER BY e.updated_at DESC, e.id DESC LIMIT {PROBE_ROWS}) p"""
        )
        params += [PROBED[kind], *match_params, *vis_params, *flt_params]
    if not probes:
        return {}
    cursor.execute(" UNION ALL ".join(probes), params)
    # The walk's length is that of the filtered kind; the index's fetches are every match of
    # the words, whatever the filter (it is tested on the fetched rows): share × all entries.
    return {
        kind: "walk"
        if matched and _walk_pays(share=matched / sampled, entries=entries or 0)
        else "index"
        for kind, entries, matched, sampled in cursor.fetchall()
    }


def _walk_pays(*, share: float, entries: float) -> bool:
    """Whether walking to COUNT_CAP matches reads fewer rows than the kind's matches are."""
    return share > 0 and COUNT_CAP / share < share * entries


def _group_sql(kind, vis_sql, flt_sql, *, way: str | None) -> str:
    """The newest matches of one kind (up to COUNT_CAP, so that they also give the count),
    flagged `ranked` for the newest CANDIDATES[kind]. Only ids and dates: the vectors of the
    ranked ones are read afterwards, not carried through the sort of every match."""
    if way == "walk":
        # The function form of @@, which no index serves: Postgres walks the recency index.
        match = "ts_match_vq(e.search_vector, to_tsquery(%s::regconfig, %s))"
    else:
        match = "e.search_vector @@ to_tsquery(%s::regconfig, %s)"
    matches = f"""SELECT e.id, e.updated_at FROM helpdesk_searchentry e
        WHERE e.kind = '{kind}' AND {match} AND {vis_sql} AND {flt_sql}"""
    if way == "index":
        # OFFSET 0 keeps the LIMIT below from tempting the planner into a walk after all.
        matches = f"SELECT * FROM ({matches} OFFSET 0) g"
    return f"""(SELECT '{kind}'::text AS kind, s.id, s.updated_at,
            row_number() OVER (ORDER BY s.updated_at DESC, s.id DESC) <= {int(CANDIDATES[kind])}
                AS ranked
        FROM ({matches}) s
        ORDER BY s.updated_at DESC, s.id DESC
        LIMIT {max(int(CANDIDATES[kind]), COUNT_CAP)})"""


def _search_postgres(cursor, parsed, user, kinds, flt_sql, flt_params, limit, offset):
    config = settings.SEARCH_LANGUAGE
    tsquery = _pg_tsquery(parsed)
    match_params = [config, tsquery]
    groups = []
    for kind in kinds:
        visibility = _group_visibility(user, kind)
        if visibility is not None:
            groups.append((kind, *visibility))
    if not groups:
        return [], 0
    ways = _chosen_ways(cursor, groups, flt_sql, flt_params, match_params)
    cand = " UNION ALL ".join(
        _group_sql(kind, vis_sql, flt_sql, way=ways.get(kind)) for kind, vis_sql, _p in groups
    )
    cand_params = [
        param
        for _kind, _vis_sql, vis_params in groups
        for param in (*match_params, *vis_params, *flt_params)
    ]
    # Rank the flagged candidates of every kind together; ts_headline, the other expensive
    # part, runs on the page's rows only. The count is that of the candidates: each kind gave
    # all of its matches or COUNT_CAP of them, so it is exact up to the cap.
    cursor.execute(
        f"""
        WITH cand AS ({cand}),
        top AS (
            SELECT c.id, c.updated_at,
                   ts_rank_cd(r.search_vector, to_tsquery(%s::regconfig, %s), 32)
                   * ({_kind_weight_sql("c")}) AS rank
            FROM cand c JOIN helpdesk_searchentry r ON r.id = c.id
            WHERE c.ranked
            ORDER BY rank DESC, c.updated_at DESC, c.id DESC
            LIMIT %s OFFSET %s
        )
        SELECT e.id, e.kind, e.url, e.status, e.is_answered, e.updated_at,
               ts_headline(%s::regconfig, e.title, to_tsquery(%s::regconfig, %s),
                   'HighlightAll=true, StartSel=' || chr(2) || ', StopSel=' || chr(3)),
               ts_headline(%s::regconfig, e.body, to_tsquery(%s::regconfig, %s),
                   'MaxWords=32, MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … ", StartSel=' || chr(2) || ', StopSel=' || chr(3)),
               (SELECT count(*) FROM cand)
        FROM top JOIN helpdesk_searchentry e ON e.id = top.id
        ORDER BY top.rank DESC, top.updated_at DESC, top.id DESC
        """,
        [
            *cand_params,
            *match_params,
            limit,
            offset,
            config,
            *match_params,
            config,
            *match_params,
        ],
    )
    rows = cursor.fetchall()
    if rows:
        return [row[:-1] for row in rows], min(rows[0][-1], COUNT_CAP)
    if not offset:
        return [], 0
    # A page past the last result: the count alone.
    cursor.execute(f"WITH cand AS ({cand}) SELECT count(*) FROM cand", cand_params)
    return [], min(cursor.fetchone()[0], COUNT_CAP)


def _search_sqlite(cursor, parsed, vis_sql, vis_params, flt_sql, flt_params, limit, offset):
    # CROSS JOIN is SQLite's way of fixing the join order: the full-text match first. Left to
    # itself, the count of a search among open tickets read the open tickets from their index
    # and ran the MATCH once per ticket (220 ms at 10,000 tickets instead of 3).
    expression = _fts5_expression(parsed)
    where = f"helpdesk_searchentry_fts MATCH %s AND {vis_sql} AND {flt_sql}"
    params = [expression, *vis_params, *flt_params]
    cursor.execute(
        f"""
        SELECT e.id, e.kind, e.url, e.status, e.is_answered, e.updated_at,
               highlight(helpdesk_searchentry_fts, 0, char(2), char(3)),
               snippet(helpdesk_searchentry_fts, 1, char(2), char(3), ' … ', 24)
        FROM helpdesk_searchentry_fts CROSS JOIN helpdesk_searchentry e ON e.id = helpdesk_searchentry_fts.rowid
        WHERE {where}
        ORDER BY bm25(helpdesk_searchentry_fts, 8.0, 1.0) * ({_kind_weight_sql()}), e.updated_at DESC
        LIMIT %s OFFSET %s
        """,
        [*params, limit, offset],
    )
    rows = cursor.fetchall()
    cursor.execute(
        f"""SELECT count(*) FROM (SELECT 1 FROM helpdesk_searchentry_fts
            CROSS JOIN helpdesk_searchentry e ON e.id = helpdesk_searchentry_fts.rowid
            WHERE {where} LIMIT {COUNT_CAP})""",
        params,
    )
    return rows, cursor.fetchone()[0]


# Logging -------------------------------------------------------------------------------------


def role_of(user) -> str:
    if not getattr(user, "is_authenticated", False):
        return "anonymous"
    return user.role


def log_search(*, user, results: Results, kind: str = "") -> SearchLog:
    return SearchLog.objects.create(
        # Lower first, then cut: lowering can lengthen text ("İ" becomes two characters).
        query=results.query.lower()[: SearchLog._meta.get_field("query").max_length],
        # A relaxed search found nothing with every word: for "searches with no results"
        # (the articles to write) it found nothing; what it showed had only some words.
        result_count=0 if results.relaxed else results.total,
        role=role_of(user),
        kind_filter=kind or "",
    )


def record_click(*, log_id: int, entry: SearchEntry) -> None:
    SearchLog.objects.filter(pk=log_id, clicked__isnull=True).update(clicked=entry)


def searches_without_results(*, since=None, until=None, limit: int = 100):
    """The searches that found nothing in [since, until), most frequent first: the list of
    articles to write. One query, on the (result_count, created_at) index."""
    from django.db.models import Count, Max

    qs = SearchLog.objects.filter(result_count=0)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return list(
        qs.values("query")
        .annotate(times=Count("id"), last=Max("created_at"))
        .order_by("-times", "-last")[:limit]
    )


def visible_entries(user):
    qs = SearchEntry.objects.all()
    if is_agent(user):
        return qs
    if getattr(user, "is_authenticated", False):
        from django.db.models import Q

        return qs.filter(Q(is_public=True) | Q(owner=user))
    return qs.filter(is_public=True)
