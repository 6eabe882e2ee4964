from django import forms
from django.utils.translation import gettext_lazy as _

from forum.models import Category, IdeaStatus
from forum.services.common import MAX_BODY, MAX_REASON, MAX_TITLE, MIN_TITLE


class HoneypotMixin(forms.Form):
    # People never see or fill it (it is off-screen and out of the tab order); bots usually do.
    website = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean(self):
        data = super().clean()
        if self.data.get("website"):
            # A form error, not a field error: the field itself is invisible.
            raise forms.ValidationError(_("Leave the last field empty: it is a trap for robots."))
        return data


def _body_field(label, placeholder):
    return forms.CharField(
        label=label,
        max_length=MAX_BODY,
        strip=False,
        error_messages={
            "required": _("Write a message first."),
            "max_length": _("The message is too long (50,000 characters at most)."),
        },
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": placeholder}),
    )


def _title_field():
    return forms.CharField(
        label=_("Title"),
        max_length=MAX_TITLE,
        min_length=MIN_TITLE,
        error_messages={
            "required": _("Give the thread a title."),
            "min_length": _("Give the thread a title of at least 3 characters."),
            "max_length": _("The title is too long (200 characters at most)."),
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": _("A question or a short summary")}
        ),
    )


class NewThreadForm(HoneypotMixin):
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the categories.")},
    )
    title = _title_field()
    body = _body_field(
        _("Message"), _("Describe it: what you tried, what happened. Markdown works.")
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        qs = Category.objects.order_by("order", "name")
        if not (user and user.is_authenticated and user.is_agent):
            qs = qs.filter(who_can_start=Category.Starters.ANYONE)
        self.fields["category"].queryset = qs

    def clean_title(self):
        return " ".join(self.cleaned_data["title"].split())


class ReplyForm(HoneypotMixin):
    body = _body_field(_("Your reply"), _("Write your reply. Markdown works."))


class EditPostForm(forms.Form):
    title = forms.CharField(required=False, max_length=MAX_TITLE)
    body = _body_field(_("Message"), "")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=MAX_REASON,
        error_messages={"required": _("Say why, so the author and other moderators understand.")},
    )


class MoveForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("Move to"),
        queryset=Category.objects.order_by("order", "name"),
        error_messages={"invalid_choice": _("Choose one of the categories.")},
    )


class IdeaStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=IdeaStatus.choices, required=False)
    note = forms.CharField(
        label=_("Changelog note"),
        required=False,
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConvertForm(forms.Form):
    queue = forms.ModelChoiceField(
        label=_("Queue"),
        queryset=None,
        required=False,
        error_messages={"invalid_choice": _("Choose one of the queues.")},
    )
    hide = forms.BooleanField(
        label=_("Also hide the thread (it has private details)"), required=False
    )

    def __init__(self, *args, **kwargs):
        from tickets.models import Queue

        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.order_by("order", "name")


class PublishForm(forms.Form):
    """Publish a solved ticket. Message choices come from the ticket's public replies only."""

    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(is_ideas=False).order_by("order", "name"),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the categories.")},
    )
    title = _title_field()
    messages = forms.TypedMultipleChoiceField(
        label=_("Messages to publish"),
        coerce=int,
        error_messages={
            "required": _("Pick at least one message to publish."),
            "invalid_choice": _("Pick messages from this ticket."),
        },
        widget=forms.CheckboxSelectMultiple,
    )
    answer = forms.TypedChoiceField(
        label=_("Accepted answer"), coerce=int, required=False, empty_value=None
    )
    show_customer_name = forms.BooleanField(label=_("Show the customer's name"), required=False)

    def __init__(self, *args, messages=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(m.pk, str(m.pk)) for m in messages]
        self.fields["messages"].choices = choices
        self.fields["answer"].choices = [("", "—"), *choices]
        self.messages_list = list(messages)

    def bodies(self) -> dict[int, str]:
        """The (possibly redacted) text of each picked message, from its own text box."""
        out = {}
        for pk in self.cleaned_data.get("messages", []):
            raw = self.data.get(f"body_{pk}")
            if raw is not None:
                out[pk] = str(raw)[:MAX_BODY]
        return out
