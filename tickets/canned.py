"""Canned reply placeholders: a fixed list, substituted as plain text (not a template engine,
so a canned reply can never reach data it should not)."""

import re

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}")


def fill_placeholders(canned, *, ticket, agent) -> str:
    customer = ticket.requester
    values = {
        ("customer", "first_name"): customer.first_name,
        ("customer", "name"): customer.display_name,
        ("customer", "email"): customer.email,
        ("ticket", "number"): str(ticket.pk),
        ("ticket", "subject"): ticket.subject,
        ("agent", "first_name"): agent.first_name,
        ("agent", "name"): agent.display_name,
    }

    def replace(match):
        return values.get((match.group(1), match.group(2)), match.group(0))

    text = _PLACEHOLDER.sub(replace, canned.body)
    if canned.article_id and canned.article.is_public:
        from django.conf import settings

        text += (
            f"\n\n[{canned.article.title}]({settings.SITE_URL}{canned.article.get_absolute_url()})"
        )
    return text
