"""Load the demo: an admin, two agents, three customers, queues, tickets, articles and threads.

Safe to run again: accounts and content are looked up by email, slug or title first.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from forum import services as forum_services
from forum.models import Category as ForumCategory
from forum.models import Thread
from helpdesk.models import Role, User
from kb import services as kb_services
from kb.models import Article
from kb.models import Category as KbCategory
from tickets import services as ticket_services
from tickets.models import CannedReply, Queue, Status, Ticket

ACCOUNTS = [
    ("admin@example.com", "Ada Admin", Role.ADMIN, "admin-demo-pass"),
    ("alex@example.com", "Alex Agent", Role.AGENT, "agent-demo-pass"),
    ("sam@example.com", "Sam Support", Role.AGENT, "agent-demo-pass"),
    ("carla@example.com", "Carla Customer", Role.CUSTOMER, "customer-demo-pass"),
    ("dev@example.com", "Dev Kumar", Role.CUSTOMER, "customer-demo-pass"),
    ("mia@example.com", "Mia Chen", Role.CUSTOMER, "customer-demo-pass"),
]

INSTALL_ARTICLE = """Frontline runs anywhere Python 3.11 runs.

## Quick start

```bash
git clone https://example.com/frontline.git
cd frontline
make run
```

## Configuration

Set `DATABASE_URL` to use Postgres:

```python
DATABASES = {"default": env.db("DATABASE_URL")}
```

Tabs and blank lines in code are kept exactly:

```makefile
run:
	python manage.py runserver

test:
	pytest
```
"""

RESET_ARTICLE = """If you forgot your password:

1. Open **Sign in** and choose *Forgot your password?*
2. Enter your email address.
3. Follow the link in the email within a day.

> The link works once. Ask for a new one if it expired.
"""

API_ARTICLE = """Use an API token in the `Authorization` header:

```http
GET /api/tickets HTTP/1.1
Authorization: Bearer <your token>
```

Responses are JSON. Errors carry a `detail` field, e.g. `{"detail": "Not found"}`.
"""


class Command(BaseCommand):
    help = "Create demo accounts and content (idempotent) and print the sign-ins."

    def handle(self, *args, **options):
        with transaction.atomic():
            users = self._accounts()
            queues = self._queues()
            self._queue_agents(users, queues)
            self._kb(users)
            self._forum(users)
            self._canned()
            self._tickets(users, queues)
        from helpdesk import search

        search.rebuild()
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data is ready. Sign in at http://127.0.0.1:8000/account/login/"
            )
        )
        width = max(len(e) for e, *_ in ACCOUNTS)
        for email, _name, role, password in ACCOUNTS:
            self.stdout.write(f"  {role:<9} {email:<{width}}  password: {password}")

    def _accounts(self):
        users = {}
        for email, name, role, password in ACCOUNTS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email=email, name=name, password=password, role=role
                )
                if role == Role.ADMIN:
                    user.is_superuser = True
                    user.save(update_fields=["is_superuser"])
            users[email.split("@")[0]] = user
        return users

    def _queues(self):
        specs = [
            ("General", "general", "Questions about anything"),
            ("Billing", "billing", "Invoices, plans and payments"),
            ("Technical", "technical", "Installation, errors and integrations"),
        ]
        out = {}
        for order, (name, slug, description) in enumerate(specs):
            out[slug], _ = Queue.objects.get_or_create(
                slug=slug, defaults={"name": name, "description": description, "order": order}
            )
        return out

    def _queue_agents(self, users, queues):
        # Both agents share General; Alex takes Technical and Sam Billing. A queue an admin
        # has already staffed is left as it is.
        members = {
            "general": [users["alex"], users["sam"]],
            "technical": [users["alex"]],
            "billing": [users["sam"]],
        }
        for slug, agents in members.items():
            queue = queues[slug]
            if not queue.agents.exists():
                ticket_services.set_queue_agents(queue=queue, actor=users["admin"], agents=agents)

    def _kb(self, users):
        if Article.objects.exists():
            return
        self._kb_base(users)
        self._kb_more(users)

    def _kb_more(self, users):
        from helpdesk.demo_content import ARTICLES

        cats = {
            "start": KbCategory.objects.get(name="Getting started"),
            "account": KbCategory.objects.get(name="Account & billing"),
            "billing": KbCategory.objects.get(name="Account & billing"),
            "dev": KbCategory.objects.get(name="Developers"),
        }
        for key, title, summary, body in ARTICLES:
            kb_services.create_article(
                author=users["alex"],
                category=cats[key],
                title=title,
                body=body,
                summary=summary,
                publish=True,
            )

    def _kb_base(self, users):
        start = kb_services.create_category(
            name="Getting started", description="Install, sign in, first steps", order=0
        )
        account = kb_services.create_category(
            name="Account & billing", description="Passwords, plans and invoices", order=1
        )
        dev = kb_services.create_category(
            name="Developers", description="API and integrations", order=2
        )
        admin = users["admin"]
        kb_services.create_article(
            author=admin,
            category=start,
            title="Install Frontline",
            body=INSTALL_ARTICLE,
            summary="From clone to running in one command.",
            publish=True,
        )
        kb_services.create_article(
            author=admin,
            category=account,
            title="Reset your password",
            body=RESET_ARTICLE,
            summary="Get back into your account.",
            publish=True,
        )
        kb_services.create_article(
            author=users["alex"],
            category=dev,
            title="Authenticate API requests",
            body=API_ARTICLE,
            summary="Tokens and headers.",
            publish=True,
        )
        kb_services.create_article(
            author=users["alex"],
            category=dev,
            title="Escalation checklist",
            body="Internal: check the logs, then page the on-call engineer.",
            publish=True,
            visibility=Article.Visibility.INTERNAL,
        )
        kb_services.create_article(
            author=users["sam"],
            category=account,
            title="Refund policy (draft)",
            body="Work in progress.",
        )

    def _forum(self, users):
        if Thread.objects.exists():
            return
        q, _ = ForumCategory.objects.get_or_create(
            slug="questions",
            defaults={
                "name": "Questions & answers",
                "description": "Ask the community and our staff",
                "order": 0,
            },
        )
        ideas, _ = ForumCategory.objects.get_or_create(
            slug="ideas",
            defaults={
                "name": "Ideas",
                "description": "Suggest and vote on improvements",
                "order": 1,
                "is_ideas": True,
            },
        )
        ForumCategory.objects.get_or_create(
            slug="announcements",
            defaults={
                "name": "Announcements",
                "description": "News from the team",
                "order": 2,
                "who_can_start": "staff",
            },
        )
        t = forum_services.start_thread(
            author=users["dev"],
            category=q,
            title="How do I paste a stack trace so it stays readable?",
            body="My traceback loses its indentation when I paste it. Any tips?",
        )
        forum_services.post_reply(
            thread=t, author=users["mia"], body="I think you can wrap it in triple backticks?"
        )
        forum_services.post_reply(
            thread=t,
            author=users["alex"],
            body='Yes, use a fenced block:\n\n```text\nTraceback (most recent call last):\n  File "app.py", line 3, in <module>\n    main()\n```\n\nEvery space is kept, and HTML like <script> is shown as text.',
        )
        forum_services.start_thread(
            author=users["mia"],
            category=ideas,
            title="Dark mode for the agent queue",
            body="It would be easier on the eyes during night shifts.",
        )
        from helpdesk.demo_content import THREADS

        cats = {"questions": q, "ideas": ideas}
        for key, author, title, body, replies in THREADS:
            thread = forum_services.start_thread(
                author=users[author], category=cats[key], title=title, body=body
            )
            for who, text in replies:
                forum_services.post_reply(thread=thread, author=users[who], body=text)

    def _canned(self):
        CannedReply.objects.get_or_create(
            title="Password reset steps",
            defaults={
                "body": 'Hi {{ customer.first_name }},\n\nYou can reset your password from the sign-in page ("Forgot your password?"). The link in the email works for a day.\n\nBest,\n{{ agent.first_name }}',
                "article": Article.objects.filter(slug="reset-your-password").first(),
            },
        )
        CannedReply.objects.get_or_create(
            title="Need more details",
            defaults={
                "body": "Hi {{ customer.first_name }},\n\nThanks for ticket #{{ ticket.number }}. Could you send the exact error message and the steps that lead to it?\n\n{{ agent.first_name }}"
            },
        )

    def _tickets(self, users, queues):
        if Ticket.objects.exists():
            return
        t1 = ticket_services.create_ticket(
            requester=users["carla"],
            subject="Cannot sign in after changing my email",
            body="I changed my email yesterday and now the sign-in says my password is wrong.",
            queue=queues["general"],
        )
        ticket_services.claim_ticket(ticket=t1, actor=users["alex"])
        ticket_services.post_reply(
            ticket=t1,
            author=users["alex"],
            body="Checked the audit log: the change went through.",
            internal=True,
        )
        ticket_services.post_reply(
            ticket=t1,
            author=users["alex"],
            body="Hi Carla, please sign in with your **new** address and use *Forgot your password?* if it still fails.",
        )
        t2 = ticket_services.create_ticket(
            requester=users["dev"],
            subject="API returns 500 on /tickets",
            body="Request:\n\n```http\nGET /api/tickets HTTP/1.1\n```\n\nResponse: `500 Internal Server Error`",
            queue=queues["technical"],
            diagnostics="Traceback (most recent call last):\n  File \"api.py\", line 42, in list_tickets\n    raise KeyError('queue')\nKeyError: 'queue'",
            tags=["api", "bug"],
        )
        ticket_services.change_priority(ticket=t2, actor=users["sam"], priority=3)
        t3 = ticket_services.create_ticket(
            requester=users["mia"],
            subject="Invoice shows the wrong VAT number",
            body="Our VAT number is DE123456789 but the invoice shows an old one.",
            queue=queues["billing"],
            tags=["invoice"],
        )
        ticket_services.claim_ticket(ticket=t3, actor=users["sam"])
        ticket_services.post_reply(
            ticket=t3,
            author=users["sam"],
            body="Fixed and re-issued the invoice. It is attached to your account.",
            new_status=Status.SOLVED,
        )
        ticket_services.create_ticket(
            requester=users["carla"],
            subject="Feature question: can I export my tickets?",
            body="Is there a CSV export?",
            queue=queues["general"],
        )
