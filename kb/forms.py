from django import forms
from django.utils.translation import gettext_lazy as _

from kb import services
from kb.models import Article, Category


def category_choices(categories) -> list[tuple]:
    """Top-level categories each followed by their children: "Parent › Child"."""
    children = {}
    for cat in categories:
        if cat.parent_id:
            children.setdefault(cat.parent_id, []).append(cat)
    choices = []
    for cat in categories:
        if cat.parent_id:
            continue
        choices.append((cat.pk, cat.name))
        choices += [(c.pk, f"{cat.name} › {c.name}") for c in children.get(cat.pk, [])]
    return choices


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=services.MAX_TITLE)
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.none())
    summary = forms.CharField(
        label=_("Summary"),
        max_length=services.MAX_SUMMARY,
        required=False,
        help_text=_("One sentence. Shown in lists, suggestions and search engines."),
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=services.MAX_BODY,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 22,
                "class": "mono",
                "placeholder": _("## A heading\n\nMarkdown. Headings make the table of contents."),
            }
        ),
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Comma-separated, e.g. “sign-in, email”. Related articles share tags."),
    )
    versions = forms.CharField(
        label=_("Applies to versions"),
        required=False,
        max_length=services.MAX_VERSIONS,
        help_text=_("Free text, e.g. “2.4 and later”."),
    )
    visibility = forms.ChoiceField(
        label=_("Who can read it"),
        choices=Article.Visibility.choices,
        initial=Article.Visibility.PUBLIC,
        widget=forms.RadioSelect,
    )
    base_revision = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        categories = list(Category.objects.order_by("order", "name"))
        field = self.fields["category"]
        field.queryset = Category.objects.all()
        field.choices = [("", _("Choose a category…")), *category_choices(categories)]

    def clean_tags(self):
        try:
            return services.parse_tags(self.cleaned_data["tags"])
        except services.ServiceError as error:
            raise forms.ValidationError(str(error)) from error


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    parent = forms.ModelChoiceField(
        label=_("Parent"),
        queryset=Category.objects.filter(parent=None),
        required=False,
        empty_label=_("— none (top level) —"),
        help_text=_("Categories nest one level."),
    )
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=10_000, initial=0)

    def __init__(self, *args, category=None, **kwargs):
        super().__init__(*args, **kwargs)
        if category is not None:
            self.fields["parent"].queryset = Category.objects.filter(parent=None).exclude(
                pk=category.pk
            )


class FeedbackForm(forms.Form):
    helpful = forms.ChoiceField(choices=[("yes", _("Yes")), ("no", _("No"))])
    comment = forms.CharField(
        label=_("Anything we should add or fix? (optional)"),
        required=False,
        max_length=services.MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ImageUploadForm(forms.Form):
    image = forms.FileField()
    article = forms.IntegerField(required=False, min_value=1)
