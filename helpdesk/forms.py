import unicodedata

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from helpdesk.models import TIMEZONE_CHOICES, User


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _(
            "That email and password do not match an account. Check both and try again."
        ),
        "inactive": _("This account is disabled. Contact your support team."),
    }


class ResetPasswordForm(PasswordResetForm):
    """Django's reset form, also for accounts that never had a password.

    Django skips accounts without a usable password (meant for users of an external login).
    Here those are customers whose account an anonymous ticket created: a reset is how they
    choose a password once the sign-in link has expired, so every active account gets the mail.
    """

    def get_users(self, email):
        def folded(address):
            return unicodedata.normalize("NFKC", address).casefold()

        # As Django does: the database's case-insensitive match must also be a Unicode one,
        # or a look-alike address could receive someone else's link.
        for user in User.objects.filter(email__iexact=email, is_active=True):
            if folded(user.email) == folded(email):
                yield user


class SignUpForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits, not a common password."),
    )
    # Honeypot: people never see or fill it; form-filling bots usually do.
    website = forms.CharField(
        required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"})
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("An account with this email already exists. Sign in, or reset your password.")
            )
        return email

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(_("Leave this field empty."))
        return ""

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password:
            probe = User(email=data.get("email", ""), name=data.get("name", ""))
            try:
                password_validation.validate_password(password, probe)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return data


class AccountSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(label=_("Time zone"), choices=TIMEZONE_CHOICES)

    class Meta:
        model = User
        fields = ["name", "timezone"]


class PreviewForm(forms.Form):
    body = forms.CharField(required=False, max_length=100_000, strip=False)
