from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from helpdesk.models import User
from helpdesk.params import parse_id
from tickets.models import Channel, Priority, Queue, Status


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        if len(files) > 10:
            raise forms.ValidationError(_("Attach at most 10 files."))
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def _attachments_help():
    mb = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
    return _("Up to 10 files, %(mb)s MB each: images, PDF, text, logs, archives.") % {"mb": mb}


class NewTicketForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email"),
        required=False,
        help_text=_("We'll send you a link to follow your request. No password needed."),
    )
    name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": _("A short summary of the problem")}
        ),
    )
    queue = forms.ModelChoiceField(
        label=_("Product or topic"), queryset=Queue.objects.none(), empty_label=None
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=100_000,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 8,
                "placeholder": _(
                    "What happened, what you expected, and the steps to see it. Markdown works: ```code```"
                ),
            }
        ),
    )
    diagnostics = forms.CharField(
        label=_("Diagnostics (optional)"),
        required=False,
        max_length=100_000,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "class": "mono",
                "placeholder": _("Paste logs, versions or error output here"),
            }
        ),
    )
    attachments = MultipleFileField(label=_("Attachments"))
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    website = forms.CharField(
        required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"})
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["attachments"].help_text = _attachments_help()
        is_agent = bool(user and user.is_authenticated and user.is_agent)
        queues = Queue.objects.all() if is_agent else Queue.objects.filter(is_public=True)
        self.fields["queue"].queryset = queues
        if user and user.is_authenticated and not is_agent:
            del self.fields["email"]
            del self.fields["name"]
        elif not (user and user.is_authenticated):
            self.fields["email"].required = True
        if is_agent:
            self.fields["email"].required = True
            self.fields["email"].label = _("Customer email")
            self.fields["email"].help_text = _("The customer this ticket is for.")
            self.fields["name"].label = _("Customer name")
            self.fields["channel"] = forms.ChoiceField(
                label=_("Channel"),
                choices=[
                    (Channel.PHONE, Channel.PHONE.label),
                    (Channel.WEB, Channel.WEB.label),
                    (Channel.EMAIL, Channel.EMAIL.label),
                ],
                initial=Channel.PHONE,
            )
            self.fields["priority"] = forms.TypedChoiceField(
                label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
            )

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(_("Leave this field empty."))
        return ""

    def clean_subject(self):
        subject = " ".join(self.cleaned_data["subject"].split())
        if not subject:
            raise forms.ValidationError(_("Give the ticket a subject."))
        return subject

    def clean_body(self):
        body = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError(_("Describe the problem in the message."))
        return body


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply"),
        max_length=100_000,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 6, "placeholder": _("Write your reply. Markdown works.")}
        ),
    )
    is_internal = forms.BooleanField(label=_("Internal note (only staff see it)"), required=False)
    time_spent = forms.IntegerField(
        label=_("Minutes spent"), required=False, min_value=0, max_value=1440
    )
    new_status = forms.ChoiceField(
        label=_("Then set status"),
        required=False,
        choices=[
            ("", _("Keep / default")),
            *[(s.value, s.label) for s in Status if s != Status.NEW],
        ],
    )
    attachments = MultipleFileField(label=_("Attachments"))
    seen_message_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirm = forms.BooleanField(widget=forms.HiddenInput, required=False)
    # Canned replies inserted into the body ("3,7"), filled in by the picker's script.
    canned = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)

    def clean_canned(self):
        raw = (self.cleaned_data.get("canned") or "").strip()
        if not raw:
            return []
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if len(parts) > 20 or not all(p.isdigit() and len(p) <= 12 for p in parts):
            # a hidden field shows no error of its own: say it above the form
            self.add_error(None, _("The canned replies of this reply were garbled; send again."))
            return []
        return sorted({int(p) for p in parts})

    def clean_body(self):
        body = self.cleaned_data["body"]
        if not body.strip():
            raise forms.ValidationError(_("Write a message first."))
        return body


class TicketFilterForm(forms.Form):
    VIEW_CHOICES = [
        ("all", _("All")),
        ("mine", _("Mine")),
        ("my_queues", _("My queues")),
        ("unassigned", _("Unassigned")),
    ]
    SORT_CHOICES = [
        ("-updated", _("Recently updated")),
        ("updated", _("Least recently updated")),
        ("-created", _("Newest")),
        ("created", _("Oldest")),
        ("-priority", _("Highest priority")),
        ("customer_waiting", _("Customer waiting longest")),
    ]
    view = forms.ChoiceField(choices=VIEW_CHOICES, required=False)
    status = forms.MultipleChoiceField(
        choices=[("active", _("Active")), *Status.choices],
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 1}),
    )
    queue = forms.ModelChoiceField(
        queryset=Queue.objects.all(), required=False, empty_label=_("Any queue")
    )
    priority = forms.TypedChoiceField(
        choices=[("", _("Any priority")), *Priority.choices],
        coerce=int,
        required=False,
        empty_value=None,
    )
    tag = forms.CharField(max_length=50, required=False)
    requester = forms.CharField(max_length=254, required=False)
    q = forms.CharField(max_length=200, required=False)
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False)
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False)


class BulkForm(forms.Form):
    ACTIONS = [
        ("assign", _("Assign to")),
        ("status", _("Set status")),
        ("tag", _("Add tag")),
        ("close", _("Close")),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    tickets = forms.TypedMultipleChoiceField(
        coerce=int, choices=(), error_messages={"required": _("Select at least one ticket.")}
    )
    assignee = forms.ModelChoiceField(queryset=User.objects.staff(), required=False)
    status = forms.ChoiceField(choices=[("", "—"), *Status.choices], required=False)
    tag = forms.CharField(max_length=50, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        raw = self.data.getlist("tickets") if hasattr(self.data, "getlist") else []
        self.fields["tickets"].choices = [(v, v) for v in raw if parse_id(v)][:500]

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "status" and not data.get("status"):
            self.add_error("status", _("Choose a status."))
        if action == "tag" and not (data.get("tag") or "").strip():
            self.add_error("tag", _("Type a tag."))
        return data


class TicketPropertiesForm(forms.Form):
    """The ticket page's side panel. Each field may come with `expected_<field>`, the value the
    page showed, so that the service changes only what the agent changed (see
    services.update_properties). The htmx panel posts one field at a time; without JavaScript
    the whole form arrives."""

    FIELDS = ("status", "priority", "assignee", "queue", "tags")
    # Fields that are never empty: an empty value (or expectation) means "not given".
    NEVER_EMPTY = ("status", "priority", "queue")

    status = forms.ChoiceField(choices=Status.choices, required=False)
    expected_status = forms.ChoiceField(choices=Status.choices, required=False)
    priority = forms.TypedChoiceField(
        choices=Priority.choices, coerce=int, required=False, empty_value=None
    )
    expected_priority = forms.TypedChoiceField(
        choices=Priority.choices, coerce=int, required=False, empty_value=None
    )
    assignee = forms.CharField(required=False)
    expected_assignee = forms.CharField(required=False)
    queue = forms.ModelChoiceField(queryset=Queue.objects.all(), required=False)
    expected_queue = forms.CharField(required=False)
    tags = forms.CharField(required=False, max_length=1000)
    expected_tags = forms.CharField(required=False, max_length=1000)

    def clean_assignee(self):
        raw = self.cleaned_data.get("assignee") or ""
        if not raw:
            return None
        assignee = User.objects.staff().filter(pk=parse_id(raw) or 0).first()
        if assignee is None:
            raise forms.ValidationError(_("Choose an agent from the list."))
        return assignee

    def _clean_expected_id(self, name):
        raw = self.cleaned_data.get(name) or ""
        if raw and parse_id(raw) is None:
            raise forms.ValidationError(_("The page sent a value it should not; reload it."))
        return parse_id(raw)

    def clean_expected_assignee(self):
        return self._clean_expected_id("expected_assignee")

    def clean_expected_queue(self):
        return self._clean_expected_id("expected_queue")

    def submitted(self) -> tuple[dict, dict]:
        """(values, seen): the fields this request carried, and what the page showed of them."""
        values, seen = {}, {}
        for name in self.FIELDS:
            if name not in self.data:
                continue
            value = self.cleaned_data.get(name)
            if name in self.NEVER_EMPTY and value in (None, ""):
                continue
            values[name] = value
            expected_name = f"expected_{name}"
            expected = self.cleaned_data.get(expected_name)
            if expected_name in self.data and not (
                name in self.NEVER_EMPTY and expected in (None, "")
            ):
                seen[name] = expected
        return values, seen


class TimeForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=1440)
    note = forms.CharField(max_length=200, required=False)


class MergeForm(forms.Form):
    target = forms.IntegerField(label=_("Merge into ticket number"), min_value=1)


class SavedFilterForm(forms.Form):
    name = forms.CharField(max_length=60)
    query = forms.CharField(max_length=500, required=False)
