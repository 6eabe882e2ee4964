"""A realistic, reproducible data set for the benchmark (`manage.py seed_bench --tickets N`).

Rows go in with COPY on Postgres and batched INSERTs on SQLite, bypassing the services: the
services' per-row work (events, mail, search) is measured by the benchmark itself, not paid a
million times here. Message bodies come from a pool rendered once through markup.render(), so
stored HTML is exactly what the services would store.
"""

import random
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from helpdesk import markup

SEED = 20261123
PARAGRAPHS = [
    "Since this morning the export stops half-way with an error message. We tried again after clearing the cache and restarting the browser, with the same result.",
    "Our team relies on the nightly report, and it has not arrived for three days now. Nothing changed on our side as far as I can tell.",
    "I followed the steps in the documentation, but the integration still shows as disconnected. The token was created an hour ago by an administrator.",
    "Could you check whether the invoice for last month used the right billing address? Our accounting team needs a corrected copy for the audit.",
    "When two of us edit the same record, one of the changes is lost without a warning. This happened twice today on different records.",
    "The page takes more than a minute to load when the list has many items. Smaller lists are fine, so it seems to depend on the size.",
    "Thanks for the quick answer! That fixed it for most users, but two colleagues still see the old behaviour on their laptops.",
    "We are evaluating whether to roll this out to the whole company next quarter, so a reliable fix matters a lot to us.",
]
CODE_BLOCKS = [
    "```python\ndef export(rows):\n    for row in rows:\n        writer.writerow(row)  # fails here\n```",
    '```text\nTraceback (most recent call last):\n  File "sync.py", line 88, in run\n    client.push(batch)\nTimeoutError: read timed out\n```',
    '```json\n{"error": "invalid_token", "detail": "Token expired"}\n```',
]
AGENT_REPLIES = [
    "Thanks for the details. I can reproduce this and have asked our engineers to look at it; I will update you here.",
    "Could you send us the exact time it happened and, if possible, a screenshot of the error? That helps us find it in the logs.",
    "This is fixed now: the export had a limit that large accounts reached. Please try again and let me know if anything is still off.",
    "I have corrected the invoice and attached the new copy to your account. The old one is void.",
]
NOTES = [
    "Customer is on the legacy plan; check the contract before offering a refund.",
    "Engineering ticket ENG-4412 tracks the root cause.",
]
STATUS_WEIGHTS = [
    ("closed", 60),
    ("solved", 14),
    ("open", 10),
    ("pending", 8),
    ("new", 5),
    ("on_hold", 3),
]
CHANNELS = [("email", 55), ("web", 35), ("phone", 6), ("forum", 3), ("api", 1)]
TAGS = [
    "billing",
    "bug",
    "export",
    "login",
    "sso",
    "api",
    "invoice",
    "performance",
    "mobile",
    "import",
    "webhooks",
    "refund",
    "onboarding",
    "feature-request",
    "security",
    "email",
    "reports",
    "integrations",
    "outage",
    "vip",
]


def _weighted(rng, pairs):
    total = sum(w for _v, w in pairs)
    pick = rng.uniform(0, total)
    for value, weight in pairs:
        pick -= weight
        if pick <= 0:
            return value
    return pairs[-1][0]


class Writer:
    """COPY on Postgres, executemany on SQLite; both in big batches."""

    def __init__(self, table, columns, after=()):
        # `after`: writers whose rows these rows reference; they are flushed first.
        self.table, self.columns, self.rows, self.after = table, columns, [], list(after)

    def add(self, row):
        self.rows.append(row)
        if len(self.rows) >= 20_000:
            self.flush()

    def flush(self):
        for parent in self.after:
            parent.flush()
        if not self.rows:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cols = ", ".join(self.columns)
                with cursor.cursor.copy(f"COPY {self.table} ({cols}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({marks})",
                    self.rows,
                )
        self.rows = []


BULK_TABLES = ["tickets_ticket", "tickets_message", "tickets_ticketevent", "tickets_ticket_tags"]


@contextmanager
def _bulk_load(tables, out=sys.stdout):
    """Postgres: load `tables` without their secondary indexes and foreign keys, then build
    the indexes in one pass each and check every foreign key with one join (as pg_restore
    does). Row by row, maintaining a dozen indexes and an FK trigger per row made the ticket
    rows the seed's slowest part. Put back whatever happens; elsewhere a no-op."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
               FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)""",
            [list(tables)],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
               FROM pg_index i
               WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
            [list(tables)],
        )
        indexes = cursor.fetchall()
        for table, name, _definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    try:
        yield
    finally:
        t0 = time.monotonic()
        out.write(f"indexes   rebuilding {len(indexes)} indexes, {len(foreign_keys)} keys…\n")
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for _name, definition in indexes:
                cursor.execute(definition)
            for table, name, definition in foreign_keys:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute("RESET maintenance_work_mem")
        out.write(f"indexes   rebuilt in {time.monotonic() - t0:.0f} s\n")


def _next_id(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - constant table names
        return cursor.fetchone()[0] + 1


def _fix_sequences(tables):
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )


class Progress:
    def __init__(self, label, total, out=sys.stdout):
        self.label, self.total, self.out, self.start, self.last = (
            label,
            total,
            out,
            time.monotonic(),
            0.0,
        )

    def update(self, done):
        now = time.monotonic()
        if now - self.last < 0.5 and done < self.total:
            return
        self.last = now
        width = 30
        filled = int(width * done / max(self.total, 1))
        rate = done / max(now - self.start, 1e-6)
        self.out.write(
            f"\r{self.label:<10} [{'#' * filled}{'.' * (width - filled)}] {done:>10,}/{self.total:,} {rate:,.0f}/s"
        )
        if done >= self.total:
            self.out.write("\n")
        self.out.flush()


def _seed_rows(tickets: int, *, out=sys.stdout) -> dict:
    from forum.models import Category as ForumCategory
    from kb.models import Category as KbCategory
    from tickets.models import Queue, Tag

    rng = random.Random(SEED)
    now = timezone.now().replace(microsecond=0)
    span = timedelta(days=730)
    timings = {}

    # People ---------------------------------------------------------------------------------
    t0 = time.monotonic()
    password = make_password("bench-pass")
    user_id = _next_id("helpdesk_user")
    users = Writer(
        "helpdesk_user",
        [
            "id",
            "email",
            "name",
            "role",
            "timezone",
            "is_active",
            "is_superuser",
            "date_joined",
            "password",
            "last_login",
        ],
    )
    agents = []
    for i in range(20):
        users.add(
            (
                user_id,
                f"agent{i}@bench.example",
                f"Agent {i}",
                "agent",
                "UTC",
                True,
                False,
                now - span,
                password,
                None,
            )
        )
        agents.append(user_id)
        user_id += 1
    customers = []
    n_customers = max(10, tickets // 20)
    progress = Progress("customers", n_customers, out)
    for i in range(n_customers):
        users.add(
            (
                user_id,
                f"customer{i}@bench.example",
                f"Customer {i}",
                "customer",
                "UTC",
                True,
                False,
                now - span,
                "!",
                None,
            )
        )
        customers.append(user_id)
        user_id += 1
        if i % 5000 == 0:
            progress.update(i)
    users.flush()
    progress.update(n_customers)
    queues = [
        Queue.objects.get_or_create(slug=f"bench-{n}", defaults={"name": f"Bench {n.title()}"})[
            0
        ].pk
        for n in ("general", "billing", "technical", "sales", "security")
    ]
    # Four agents per queue, as a team would be staffed: new-ticket mail goes to them.
    Queue.agents.through.objects.bulk_create(
        [
            Queue.agents.through(queue_id=queues[i % len(queues)], user_id=agent_id)
            for i, agent_id in enumerate(agents)
        ],
        ignore_conflicts=True,
    )
    tag_ids = [Tag.objects.get_or_create(name=t)[0].pk for t in TAGS]
    timings["people"] = time.monotonic() - t0

    # Pools of rendered bodies -----------------------------------------------------------------
    customer_pool, agent_pool, note_pool = [], [], []
    for _ in range(300):
        parts = rng.sample(PARAGRAPHS, rng.randint(1, 3))
        if rng.random() < 0.25:
            parts.insert(rng.randint(1, len(parts)), rng.choice(CODE_BLOCKS))
        text = "\n\n".join(parts)
        customer_pool.append((text, markup.render(text)))
    for text in AGENT_REPLIES:
        agent_pool.append((text, markup.render(text)))
    for text in NOTES:
        note_pool.append((text, markup.render(text)))

    # Tickets, messages, events, tags ------------------------------------------------------------
    t0 = time.monotonic()
    ticket_id = _next_id("tickets_ticket")
    message_id = _next_id("tickets_message")
    event_id = _next_id("tickets_ticketevent")
    tw = Writer(
        "tickets_ticket",
        [
            "id",
            "subject",
            "requester_id",
            "queue_id",
            "status",
            "priority",
            "assignee_id",
            "channel",
            "diagnostics",
            "created_at",
            "updated_at",
            "customer_updated_at",
            "first_response_at",
            "solved_at",
            "closed_at",
            "last_customer_activity_at",
            "last_agent_activity_at",
            "due_at",
            "merged_into_id",
            "message_count",
            "time_spent_minutes",
            "submission_key",
        ],
    )
    mw = Writer(
        "tickets_message",
        [
            "id",
            "ticket_id",
            "author_id",
            "body",
            "body_html",
            "is_internal",
            "is_from_staff",
            "channel",
            "created_at",
            "message_id",
            "time_spent_minutes",
        ],
        after=[tw],
    )
    ew = Writer(
        "tickets_ticketevent",
        ["id", "ticket_id", "actor_id", "kind", "data", "created_at"],
        after=[tw],
    )
    gw = Writer("tickets_ticket_tags", ["ticket_id", "tag_id"], after=[tw])
    progress = Progress("tickets", tickets, out)
    subjects = [
        "Export stops half-way",
        "Nightly report missing",
        "Integration shows disconnected",
        "Wrong billing address on invoice",
        "Changes lost when editing together",
        "List page is slow",
        "Cannot sign in with SSO",
        "Webhook deliveries failing",
        "Refund for duplicate charge",
        "Mobile app crashes on start",
        "Import from CSV rejects rows",
        "API returns 500",
    ]
    for i in range(tickets):
        created = now - span + timedelta(seconds=rng.randint(0, int(span.total_seconds())))
        status = _weighted(rng, STATUS_WEIGHTS)
        channel = _weighted(rng, CHANNELS)
        requester = rng.choice(customers)
        assignee = rng.choice(agents) if status != "new" or rng.random() < 0.2 else None
        n_msgs = rng.randint(1, 6) if status != "new" else 1
        t = created
        first_response = None
        last_customer = created
        last_agent = None
        rows = []
        for m in range(n_msgs):
            if m == 0:
                author, internal, staff = requester, False, False
                body, html = rng.choice(customer_pool)
            elif rng.random() < 0.12:
                author, internal, staff = assignee or rng.choice(agents), True, True
                body, html = rng.choice(note_pool)
            elif m % 2 == 1:
                author, internal, staff = assignee or rng.choice(agents), False, True
                body, html = rng.choice(agent_pool)
            else:
                author, internal, staff = requester, False, False
                body, html = rng.choice(customer_pool)
            t = t + timedelta(minutes=rng.randint(5, 60 * 30))
            if staff:
                last_agent = t
                if not internal and first_response is None:
                    first_response = t
            else:
                last_customer = t
            rows.append(
                (message_id, ticket_id, author, body, html, internal, staff, channel, t, None, 0)
            )
            message_id += 1
        solved = (
            t + timedelta(minutes=rng.randint(10, 600)) if status in ("solved", "closed") else None
        )
        closed = solved + timedelta(days=7) if status == "closed" and solved else None
        updated = closed or solved or t
        if updated > now:
            updated = now
        tw.add(
            (
                ticket_id,
                f"{rng.choice(subjects)} ({i})",
                requester,
                rng.choice(queues),
                status,
                _weighted(rng, [(1, 15), (2, 60), (3, 20), (4, 5)]),
                assignee,
                channel,
                "",
                created,
                updated,
                updated,
                first_response,
                solved,
                closed,
                last_customer,
                last_agent,
                None,
                None,
                len(rows),
                0,
                None,
            )
        )
        for row in rows:
            mw.add(row)
        ew.add((event_id, ticket_id, requester, "created", f'{{"channel": "{channel}"}}', created))
        event_id += 1
        if solved:
            ew.add(
                (
                    event_id,
                    ticket_id,
                    assignee,
                    "status",
                    '{"old": "open", "new": "solved"}',
                    solved,
                )
            )
            event_id += 1
        for tag in rng.sample(tag_ids, rng.choice([0, 1, 1, 2])):
            gw.add((ticket_id, tag))
        ticket_id += 1
        if i % 2000 == 0:
            progress.update(i)
    # Rows reference each other: tickets first, then messages, events and tags.
    tw.flush()
    mw.flush()
    ew.flush()
    gw.flush()  # noqa: E702
    progress.update(tickets)
    timings["tickets"] = time.monotonic() - t0

    # Knowledge base and forum ---------------------------------------------------------------------
    t0 = time.monotonic()
    kb_cat, _ = KbCategory.objects.get_or_create(slug="bench-docs", defaults={"name": "Bench docs"})
    from kb.models import Article

    article_rows = []
    for i in range(500):
        body = "\n\n".join(
            rng.sample(PARAGRAPHS, 3) + [rng.choice(CODE_BLOCKS)] + rng.sample(PARAGRAPHS, 2)
        )
        html = markup.render(f"## Overview\n\n{body}\n\n## Steps\n\n1. Open settings\n2. Save")
        article_rows.append(
            Article(
                category=kb_cat,
                title=f"{rng.choice(subjects)}: guide {i}",
                slug=f"bench-guide-{i}",
                summary="How to fix it.",
                body=body,
                body_html=html,
                status="published",
                visibility="public" if i % 10 else "internal",
                created_at=now - span,
                updated_at=now - timedelta(days=rng.randint(0, 700)),
                published_at=now - span,
                view_count=rng.randint(0, 5000),
            )
        )
    Article.objects.bulk_create(article_rows, batch_size=500, ignore_conflicts=True)
    posts_total = max(10, tickets // 10)
    fcat, _ = ForumCategory.objects.get_or_create(
        slug="bench-forum", defaults={"name": "Bench forum"}
    )
    # Forum rows go through bulk_create (model defaults fill the moderation fields).
    from forum.models import Post, Thread

    made = 0
    progress = Progress("posts", posts_total, out)
    pending_threads, pending_posts = [], []

    def flush_forum():
        created = Thread.objects.bulk_create([t for t, _ in pending_threads], batch_size=2000)
        for thread, (_t, posts) in zip(created, pending_threads, strict=True):
            for post in posts:
                post.thread_id = thread.pk
                pending_posts.append(post)
        Post.objects.bulk_create(pending_posts, batch_size=5000)
        pending_threads.clear()
        pending_posts.clear()

    while made < posts_total:
        n = min(rng.randint(1, 8), posts_total - made)
        created = now - span + timedelta(seconds=rng.randint(0, int(span.total_seconds())))
        t = created
        staff_reply = False
        posts = []
        for p in range(n):
            staff = p > 0 and rng.random() < 0.2
            staff_reply = staff_reply or staff
            body, html = rng.choice(agent_pool if staff else customer_pool)
            posts.append(
                Post(
                    author_id=rng.choice(agents) if staff else rng.choice(customers),
                    body=body,
                    body_html=html,
                    is_staff_post=staff,
                    created_at=t,
                )
            )
            t += timedelta(hours=rng.randint(1, 48))
        thread = Thread(
            category_id=fcat.pk,
            title=f"{rng.choice(subjects)}? (community {made})",
            author_id=rng.choice(customers),
            created_at=created,
            last_activity_at=min(t, now),
            reply_count=n - 1,
            is_hidden=rng.random() < 0.01,
            has_staff_reply=staff_reply,
        )
        pending_threads.append((thread, posts))
        made += n
        if len(pending_threads) >= 2000:
            flush_forum()
            progress.update(made)
    flush_forum()
    progress.update(posts_total)
    timings["kb_forum"] = time.monotonic() - t0
    _fix_sequences(["helpdesk_user", "tickets_ticket", "tickets_message", "tickets_ticketevent"])

    return timings


def seed(tickets: int, *, out=sys.stdout) -> dict:
    started = time.monotonic()
    with _bulk_load(BULK_TABLES, out):
        timings = _seed_rows(tickets, out=out)
        t0 = time.monotonic()
    timings["indexes"] = time.monotonic() - t0
    # Search index and statistics, side by side: the index is one long INSERT ... SELECT in
    # the database, the rollups mostly Python, so on two cores they overlap (own connection).
    t0 = time.monotonic()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh tables: let the planner see their sizes
    search_done = {}

    def build_search():
        start = time.monotonic()
        build_search_index_sql(out=out)
        search_done["seconds"] = time.monotonic() - start

    def build_search_in_thread():
        try:
            build_search()
        except BaseException as error:  # noqa: BLE001 - re-raised in the main thread
            search_done["error"] = error
        finally:
            connection.close()  # this thread's own connection

    concurrent = connection.vendor == "postgresql"
    if concurrent:
        searcher = threading.Thread(target=build_search_in_thread, name="seed-search")
        searcher.start()
    else:  # SQLite has one writer: one after the other
        build_search()
    from stats import services as stats_services

    try:
        # A full rebuild (no `since`): it walks the tickets in id order without comparing old
        # facts.
        stats_services.rebuild()
        timings["stats_rollups"] = time.monotonic() - t0
    finally:
        if concurrent:
            searcher.join()
    if "error" in search_done:
        raise search_done["error"]
    timings["search_index"] = search_done["seconds"]
    timings["search_and_rollups"] = time.monotonic() - t0
    if connection.vendor == "postgresql":
        # VACUUM, not only ANALYZE: index-only scans (the live counts, the queue's sort
        # indexes) skip the table only for pages the visibility map marks all-visible, and
        # a server with autovacuum off (this machine's) would never mark them.
        t0 = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        timings["vacuum"] = time.monotonic() - t0
    timings["total"] = time.monotonic() - started
    return timings


def build_search_index_sql(*, out=sys.stdout) -> None:
    """Fill SearchEntry for everything in set-based SQL (the per-item indexer is for changes)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM helpdesk_searchentry")
        agg = (
            "string_agg(m.body, ' ')"
            if connection.vendor == "postgresql"
            else "group_concat(m.body, ' ')"
        )
        now = "now()" if connection.vendor == "postgresql" else "CURRENT_TIMESTAMP"
        out.write("search    articles…\n")
        cursor.execute(
            """INSERT INTO helpdesk_searchentry (kind, object_id, title, body, url, is_public, owner_id, status, queue_id, is_answered, updated_at)
            SELECT 'article', a.id, a.title, a.summary || ' ' || a.body, '/kb/a/' || a.slug || '/',
                   (a.status = 'published' AND a.visibility = 'public'), NULL, a.status, NULL, TRUE, a.updated_at
            FROM kb_article a"""
        )
        out.write("search    threads…\n")
        cursor.execute(
            f"""INSERT INTO helpdesk_searchentry (kind, object_id, title, body, url, is_public, owner_id, status, queue_id, is_answered, updated_at)
            SELECT 'thread', t.id, t.title, COALESCE((SELECT {agg.replace("m.body", "p.body")} FROM forum_post p WHERE p.thread_id = t.id AND NOT p.is_hidden), ''),
                   '/community/t/' || t.id || '/', NOT t.is_hidden, NULL, CASE WHEN t.has_staff_reply THEN 'answered' ELSE 'open' END, NULL, t.has_staff_reply, t.last_activity_at
            FROM forum_thread t"""
        )
        out.write("search    tickets… (the longest step)\n")
        cursor.execute(
            f"""INSERT INTO helpdesk_searchentry (kind, object_id, title, body, url, is_public, owner_id, status, queue_id, is_answered, updated_at)
            SELECT 'ticket', t.id, '#' || t.id || ' ' || t.subject,
                   COALESCE((SELECT {agg} FROM tickets_message m WHERE m.ticket_id = t.id AND NOT m.is_internal), ''),
                   '/tickets/' || t.id || '/', FALSE, t.requester_id, t.status, t.queue_id, t.first_response_at IS NOT NULL, COALESCE(t.updated_at, {now})
            FROM tickets_ticket t WHERE t.merged_into_id IS NULL"""
        )
