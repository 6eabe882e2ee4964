from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from helpdesk.params import parse_id
from stats.queries import Filters
from tickets.models import Channel, Tag

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366

PRESETS = [
    (7, _("7 days")),
    (30, _("30 days")),
    (90, _("90 days")),
    (365, _("12 months")),
]


class DashboardFilterForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    queue = forms.TypedChoiceField(label=_("Queue"), required=False, coerce=int, empty_value=None)
    agent = forms.ChoiceField(label=_("Agent"), required=False)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("Any channel")), *Channel.choices]
    )
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)

    def __init__(self, data=None, *, today, queues, agents):
        super().__init__(data)
        self.today = today
        self.fields["queue"].choices = [("", _("Any queue")), *[(q.pk, q.name) for q in queues]]
        self.fields["agent"].choices = [
            ("", _("Any agent")),
            ("none", _("Unassigned")),
            *[(str(a.pk), a.display_name) for a in agents],
        ]

    def clean(self):
        data = super().clean()
        end = data.get("end") or self.today
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The start date must be on or before the end date."))
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(_("Choose a range of at most three years."))
        data["start"], data["end"] = start, end
        data["tag"] = "-".join((data.get("tag") or "").strip().lower().split())
        return data

    def filters(self, tz=None) -> Filters:
        """The validated filters; a tag name is looked up (one query) when one is given."""
        data = self.cleaned_data
        agent = data.get("agent") or ""
        tag_id = None
        if data["tag"]:
            tag_id = Tag.objects.filter(name=data["tag"]).values_list("pk", flat=True).first()
        return Filters(
            start=data["start"],
            end=data["end"],
            queue_id=data.get("queue"),
            agent_id=parse_id(agent),
            unassigned=agent == "none",
            channel=data.get("channel") or "",
            tag_id=tag_id,
            no_tag=bool(data["tag"]) and tag_id is None,
            tz=tz,
        )
