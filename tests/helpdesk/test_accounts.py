import pytest
from django.urls import reverse

from helpdesk.models import Role, User
from helpdesk.services import ServiceError, get_or_create_customer, set_role
from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_signup_creates_customer_and_signs_in(client):
    response = client.post(
        reverse("signup"),
        {"name": "Nora New", "email": "Nora@Example.com", "password": "a-long-unusual-passphrase"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="nora@example.com")
    assert user.role == Role.CUSTOMER
    assert client.get(reverse("home")).context["user"] == user


@pytest.mark.django_db
def test_signup_rejects_bad_input_with_400_and_messages(client, customer):
    response = client.post(
        reverse("signup"), {"name": "", "email": "not-an-email", "password": "123"}
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "This field is required" in content
    assert "valid email" in content
    response = client.post(
        reverse("signup"),
        {"name": "Dup", "email": "CARLA@example.com", "password": "a-long-unusual-passphrase"},
    )
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact="carla@example.com").count() == 1


@pytest.mark.django_db
def test_signup_honeypot_refuses_bots(client):
    response = client.post(
        reverse("signup"),
        {
            "name": "Bot",
            "email": "bot@example.com",
            "password": "a-long-unusual-passphrase",
            "website": "spam",
        },
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="bot@example.com").exists()


@pytest.mark.django_db
def test_signin_with_email_any_case(client, customer):
    response = client.post(
        reverse("login"), {"username": "Carla@Example.COM", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == customer


@pytest.mark.django_db
def test_signin_wrong_password_is_400_with_message(client, customer):
    response = client.post(reverse("login"), {"username": customer.email, "password": "nope"})
    assert response.status_code == 400
    assert "do not match" in response.content.decode()


@pytest.mark.django_db
def test_signin_is_rate_limited_after_repeated_failures(client, customer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": customer.email, "password": "wrong"})
    # Even the right password is refused while locked out.
    response = client.post(reverse("login"), {"username": customer.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()


@pytest.mark.django_db
def test_signout_requires_post(client, customer):
    client.force_login(customer)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert not client.get(reverse("home")).context["user"].is_authenticated


@pytest.mark.django_db
def test_password_reset_by_email(client, customer, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": customer.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    link = next(line for line in body.splitlines() if "/account/reset/" in line)
    path = link.split("testserver", 1)[1].strip()
    response = client.get(path, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.check_password("another-long-passphrase")


@pytest.mark.django_db
def test_customer_without_password_can_choose_one_by_reset(client, mailoutbox):
    # An anonymous ticket creates the account without a usable password; once the sign-in link
    # has expired, a reset is the only way in (and sign-up sends them here).
    user, _created = get_or_create_customer(email="anna@example.com", name="Anna")
    assert not user.has_usable_password()
    response = client.post(reverse("password_reset"), {"email": "Anna@Example.com"})
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["anna@example.com"]]
    link = next(line for line in mailoutbox[0].body.splitlines() if "/account/reset/" in line)
    response = client.get(link.split("testserver", 1)[1].strip(), follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-passphrase")
    response = client.post(
        reverse("login"), {"username": "anna@example.com", "password": "another-long-passphrase"}
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_password_reset_skips_disabled_accounts(client, mailoutbox):
    user, _created = get_or_create_customer(email="gone@example.com")
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.post(reverse("password_reset"), {"email": "gone@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []


@pytest.mark.django_db
def test_password_reset_unknown_email_gives_same_answer(client, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []


@pytest.mark.django_db
def test_password_reset_mismatch_is_400(client, customer, mailoutbox):
    client.post(reverse("password_reset"), {"email": customer.email})
    link = next(line for line in mailoutbox[0].body.splitlines() if "/account/reset/" in line)
    response = client.get(link.split("testserver", 1)[1].strip(), follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "another-long-passphrase", "new_password2": "different-passphrase"},
    )
    assert response.status_code == 400


def test_roles_in_one_place(db, customer, agent, admin):
    assert (customer.is_agent, customer.is_admin) == (False, False)
    assert (agent.is_agent, agent.is_admin) == (True, False)
    assert (admin.is_agent, admin.is_admin) == (True, True)
    assert admin.is_staff and not agent.is_staff


def test_only_admins_change_roles_and_one_admin_remains(db, customer, agent, admin):
    with pytest.raises(ServiceError):
        set_role(actor=agent, user=customer, role=Role.AGENT)
    set_role(actor=admin, user=customer, role=Role.AGENT)
    customer.refresh_from_db()
    assert customer.is_agent
    with pytest.raises(ServiceError, match="at least one admin"):
        set_role(actor=admin, user=admin, role=Role.AGENT)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/"])
def test_admin_site_only_for_admins(client, agent, admin, path):
    client.force_login(agent)
    assert client.get(path).status_code == 302  # to the admin login
    client.force_login(admin)
    assert client.get(path).status_code == 200


def test_times_shown_in_user_time_zone(db, client, customer, ticket):
    customer.timezone = "Asia/Tokyo"
    customer.save(update_fields=["timezone"])
    client.force_login(customer)
    response = client.get(ticket.get_absolute_url())
    assert response.status_code == 200
    # Stored in UTC, rendered with the +09:00 offset.
    assert "+09:00" in response.content.decode()


def test_account_settings_bad_time_zone_is_400(db, client, customer):
    client.force_login(customer)
    response = client.post(reverse("account-settings"), {"name": "C", "timezone": "Mars/Olympus"})
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.timezone == "UTC"


# Client addresses behind the proxy -------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "10.0.0.1"),  # no proxy: the header is the client's to forge
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.9, 203.0.113.7", "203.0.113.7"),  # the first entry is forgeable
        (2, "198.51.100.9, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.1"),  # fewer hops than proxies: not through them all
        (1, "", "10.0.0.1"),
        (1, "not-an-address", "10.0.0.1"),
        (1, " 2001:db8::1 ", "2001:db8::1"),
    ],
)
def test_client_ip_honours_the_trusted_proxy_count(rf, settings, proxies, forwarded, expected):
    from helpdesk.ratelimit import client_ip

    settings.AXES_IPWARE_PROXY_COUNT = proxies or None
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_signup_rate_limit_counts_each_visitor_behind_the_proxy(client, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.PUBLIC_FORM_RATE_LIMIT = 2

    def sign_up(n, visitor):
        return client.post(
            reverse("signup"),
            {"name": "N", "email": f"n{n}@example.com", "password": "a-long-unusual-passphrase"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=visitor,
        )

    for n in range(2):
        assert sign_up(n, "203.0.113.7").status_code == 302
        client.logout()
    assert sign_up(2, "203.0.113.7").status_code == 429
    assert sign_up(3, "198.51.100.9").status_code == 302
    assert User.objects.filter(email="n3@example.com").exists()
    assert not User.objects.filter(email="n2@example.com").exists()


@pytest.mark.django_db
def test_signin_lockout_is_per_visitor_behind_the_proxy(client, customer, settings):
    """django-axes reads the same client address as our rate limits: one visitor's failures
    behind the proxy do not lock out another visitor using the same proxy."""
    settings.AXES_IPWARE_PROXY_COUNT = 1

    def sign_in(password, visitor):
        return client.post(
            reverse("login"),
            {"username": customer.email, "password": password},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=visitor,
        )

    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("wrong", "203.0.113.7")
    assert sign_in(PASSWORD, "203.0.113.7").status_code == 429
    assert sign_in(PASSWORD, "198.51.100.9").status_code == 302
