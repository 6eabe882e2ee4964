"""State changes for accounts. Views, commands and tests all call these."""

import operator
from functools import reduce

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from helpdesk.models import Role, User


class ServiceError(Exception):
    """A refused change, with a message a person can read, and an optional machine code."""

    def __init__(self, message, code: str | None = None):
        super().__init__(message)
        self.message = str(message)
        self.code = code

    def __str__(self):
        return self.message


def register_customer(*, email: str, name: str, password: str | None) -> User:
    """Create a customer account. Emails are unique without regard to case."""
    email = email.strip().lower()
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise ServiceError(_("An account with this email already exists."))
        return User.objects.create_user(email=email, name=name.strip(), password=password)


def get_or_create_customer(*, email: str, name: str = "") -> tuple[User, bool]:
    """The customer for an email address, created without a password if new."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user:
        return user, False
    return create_customer(email=email, name=name), True


def accounts_for(emails) -> dict[str, User]:
    """The accounts of many addresses ({address lowercased: user}), matched as
    get_or_create_customer matches one (case-insensitively); an address without an account is
    left out. Two queries at most: exact addresses first (as they are stored), then the rest."""
    wanted = {e.strip().lower() for e in emails if e and e.strip()}
    found = {u.email.lower(): u for u in User.objects.filter(email__in=wanted)}
    rest = wanted - found.keys()
    if rest:
        any_case = reduce(operator.or_, (Q(email__iexact=e) for e in sorted(rest)))
        found.update((u.email.lower(), u) for u in User.objects.filter(any_case))
    return found


def create_customer(*, email: str, name: str = "") -> User:
    """A new customer without a password, for an address known to have no account (see
    accounts_for); the unique address refuses a second one."""
    return User.objects.create_user(email=email.strip().lower(), name=name.strip(), password=None)


def set_role(*, actor: User, user: User, role: str) -> User:
    """Change a user's role. Only admins may, and the last admin cannot demote themselves."""
    if not actor.is_admin:
        raise ServiceError(_("Only admins can change roles."))
    if role not in Role.values:
        raise ServiceError(_("Unknown role."))
    with transaction.atomic():
        if (
            user.role == Role.ADMIN
            and role != Role.ADMIN
            and not User.objects.filter(role=Role.ADMIN, is_active=True)
            .exclude(pk=user.pk)
            .exists()
        ):
            raise ServiceError(_("Frontline needs at least one admin."))
        user.role = role
        user.is_superuser = role == Role.ADMIN
        user.save(update_fields=["role", "is_superuser"])
    return user
