"""sitemap.xml for the public knowledge base: published public articles and the categories
that hold them. Drafts and internal articles are never listed (the queries say so)."""

from django.contrib.sitemaps import Sitemap
from django.db.models import Q
from django.urls import reverse

from kb.models import Article, Category


class DocsHomeSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.6

    def items(self):
        return ["kb:index"]

    def location(self, item):
        return reverse(item)


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    limit = 5000

    def items(self):
        return Article.objects.public().only("slug", "updated_at").order_by("pk")

    def lastmod(self, article):
        return article.updated_at


class CategorySitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        public = Article.objects.public()
        return (
            Category.objects.filter(Q(articles__in=public) | Q(children__articles__in=public))
            .distinct()
            .only("slug")
            .order_by("pk")
        )


SITEMAPS = {"docs": DocsHomeSitemap, "articles": ArticleSitemap, "categories": CategorySitemap}
