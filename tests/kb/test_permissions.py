"""Who may read what. Internal articles and drafts never reach customers or anonymous readers:
not their pages, not lists, search, related articles, suggestions, the sitemap or images.
Staff pages answer outsiders with 404 (customers) or the sign-in page (anonymous)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kb import services
from tests.conftest import make_user
from tests.kb.conftest import PNG, client_for

ROLES = ["anonymous", "customer", "agent", "admin"]
# article kind -> roles that may open its page
READERS = {
    "public": {"anonymous", "customer", "agent", "admin"},
    "internal": {"agent", "admin"},
    "draft": {"agent", "admin"},
}


@pytest.fixture
def people(customer, agent, admin):
    return {"anonymous": None, "customer": customer, "agent": agent, "admin": admin}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["public", "internal", "draft"])
def test_article_page_is_readable_only_by_the_right_roles(people, articles, role, kind):
    response = client_for(people[role]).get(articles[kind].get_absolute_url())
    assert response.status_code == (200 if role in READERS[kind] else 404)


@pytest.mark.parametrize("role", ["anonymous", "customer"])
def test_lists_show_customers_only_published_public_articles(people, articles, category, role):
    c = client_for(people[role])
    pages = [
        reverse("kb:index"),
        category.get_absolute_url(),
        reverse("kb:tag", args=["printer"]),
        reverse("search") + "?q=printer&kind=article",
        reverse("home"),
    ]
    for url in pages:
        html = c.get(url).content.decode()
        assert "Fix a paper jam" in html, url
        assert "Printer escalation runbook" not in html, url
        assert "Printer refund draft" not in html, url


def test_agents_see_internal_articles_in_lists_but_drafts_only_on_the_staff_page(
    agent_client, articles, category
):
    html = agent_client.get(category.get_absolute_url()).content.decode()
    assert "Printer escalation runbook" in html
    assert "Printer refund draft" not in html
    manage = agent_client.get(reverse("kb:manage")).content.decode()
    assert "Printer refund draft" in manage and "Printer escalation runbook" in manage


@pytest.mark.parametrize("role", ["anonymous", "customer"])
def test_related_articles_never_include_internal_or_drafts(people, articles, make_article, role):
    sibling = make_article("Clean the printer rollers", tags=["printer"])
    response = client_for(people[role]).get(articles["public"].get_absolute_url())
    related = [a.title for a in response.context["related"]]
    assert related == [sibling.title]


def test_agents_see_internal_related_articles(agent_client, articles):
    response = agent_client.get(articles["public"].get_absolute_url())
    related = {a.title for a in response.context["related"]}
    assert related == {"Printer escalation runbook"}


@pytest.mark.parametrize("role", ROLES)
def test_suggestions_never_include_internal_or_drafts_whoever_asks(people, articles, role):
    response = client_for(people[role]).get(reverse("kb:suggest"), {"q": "printer runbook"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "escalation runbook" not in html
    assert "refund draft" not in html


def test_opening_an_internal_or_draft_suggestion_link_is_404(client, articles):
    for kind in ("internal", "draft"):
        url = reverse("kb:suggestion-open-article", args=[articles[kind].pk])
        assert client.get(url).status_code == 404


def test_sitemap_lists_only_published_public_articles_and_their_categories(
    client, articles, other_category, make_article
):
    make_article("Secret billing notes", category=other_category, visibility="internal")
    xml = client.get(reverse("kb:sitemap")).content.decode()
    assert articles["public"].get_absolute_url() in xml
    assert articles["internal"].get_absolute_url() not in xml
    assert articles["draft"].get_absolute_url() not in xml
    assert articles["public"].category.get_absolute_url() in xml
    # A category holding only internal articles is not advertised.
    assert other_category.get_absolute_url() not in xml


@pytest.mark.parametrize("role", ["anonymous", "customer"])
def test_category_with_only_internal_articles_is_404_for_customers(
    people, other_category, make_article, role
):
    make_article("Secret billing notes", category=other_category, visibility="internal")
    c = client_for(people[role])
    assert c.get(other_category.get_absolute_url()).status_code == 404
    assert "Billing" not in c.get(reverse("kb:index")).content.decode()


def test_tag_of_only_internal_articles_is_404_for_customers(client, make_article):
    make_article("Pager duty", visibility="internal", tags=["on-call"])
    assert client.get(reverse("kb:tag", args=["on-call"])).status_code == 404


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["public", "internal", "draft"])
def test_article_images_follow_the_article_permission(people, articles, agent, role, kind):
    image = services.upload_image(
        actor=agent,
        upload=SimpleUploadedFile("shot.png", PNG, content_type="image/png"),
        article=articles[kind],
    )
    response = client_for(people[role]).get(image.get_absolute_url())
    assert response.status_code == (200 if role in READERS[kind] else 404)


def test_image_uploaded_before_its_article_is_saved_is_for_staff_only(client, agent):
    image = services.upload_image(
        actor=agent, upload=SimpleUploadedFile("a.png", PNG, content_type="image/png")
    )
    assert client.get(image.get_absolute_url()).status_code == 404
    assert client_for(agent).get(image.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("kind", ["internal", "draft"])
def test_customer_cannot_vote_on_internal_or_draft_articles(customer_client, articles, kind):
    url = reverse("kb:feedback", args=[articles[kind].slug])
    assert customer_client.post(url, {"helpful": "yes"}).status_code == 404
    assert articles[kind].feedback.count() == 0


STAFF_GET = [
    ("kb:manage", False),
    ("kb:article-new", False),
    ("kb:article-edit", True),
    ("kb:history", True),
    ("kb:compare", True),
    ("kb:feedback-list", True),
    ("kb:article-delete-confirm", True),
]
STAFF_POST = [
    ("kb:article-publish", True),
    ("kb:article-unpublish", True),
    ("kb:article-delete", True),
    ("kb:image-upload", False),
]


def _url(name, with_slug, article):
    return reverse(name, args=[article.slug]) if with_slug else reverse(name)


@pytest.mark.parametrize(("name", "with_slug"), STAFF_GET)
def test_staff_pages_are_404_for_customers_and_sign_in_for_anonymous(
    client, customer, public_article, name, with_slug
):
    url = _url(name, with_slug, public_article)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/account/login/" in anonymous["Location"]
    assert client_for(customer).get(url).status_code == 404


@pytest.mark.parametrize(("name", "with_slug"), STAFF_GET)
def test_staff_pages_open_for_agents(agent_client, public_article, name, with_slug):
    assert agent_client.get(_url(name, with_slug, public_article)).status_code == 200


@pytest.mark.parametrize(("name", "with_slug"), STAFF_POST)
def test_staff_actions_change_nothing_for_customers(
    customer_client, public_article, name, with_slug
):
    response = customer_client.post(
        _url(name, with_slug, public_article), {"confirm": public_article.slug}
    )
    assert response.status_code == 404
    public_article.refresh_from_db()
    assert public_article.status == "published"
    assert public_article.revision_number == 1


def test_revision_pages_and_restore_are_404_for_customers(customer_client, public_article):
    assert (
        customer_client.get(reverse("kb:revision", args=[public_article.slug, 1])).status_code
        == 404
    )
    response = customer_client.post(reverse("kb:restore", args=[public_article.slug, 1]))
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["kb:categories", "kb:category-edit"])
def test_category_admin_is_for_admins_only(client, customer, agent, admin, category, name):
    url = reverse(name, args=[category.pk]) if name == "kb:category-edit" else reverse(name)
    assert client_for(customer).get(url).status_code == 404
    assert client_for(agent).get(url).status_code == 404
    assert client_for(admin).get(url).status_code == 200


def test_deactivated_agent_is_treated_as_a_customer(db, articles):
    former = make_user("former@example.com", "agent")
    former.is_active = False
    former.save(update_fields=["is_active"])
    c = client_for(former)
    # A deactivated account is signed out by Django; either way no internal article.
    assert c.get(articles["internal"].get_absolute_url()).status_code == 404
