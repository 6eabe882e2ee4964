"""Agents belong to queues; a new ticket is mailed to its queue's agents, or to all staff while
the queue has none."""

import pytest
from django.urls import reverse

from helpdesk.models import Role
from tests.conftest import make_user
from tickets import services
from tickets.models import Queue
from tickets.notifications import new_ticket
from tickets.queries import notified_agents


@pytest.fixture
def billing(db):
    return Queue.objects.create(name="Billing", slug="billing")


def open_ticket(customer, queue, capture, subject="Refund please"):
    with capture(execute=True):
        return services.create_ticket(requester=customer, subject=subject, body="Hi", queue=queue)


def recipients(mailoutbox):
    return sorted(address for mail in mailoutbox for address in mail.to)


def test_queue_members_get_the_new_ticket_mail_and_others_do_not(
    customer, agent, other_agent, admin, billing, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    services.set_queue_agents(queue=billing, actor=admin, agents=[other_agent])
    ticket = open_ticket(customer, billing, django_capture_on_commit_callbacks)
    (mail,) = mailoutbox
    assert mail.to == [other_agent.email]
    assert f"[#{ticket.pk}]" in mail.subject and "Billing" in mail.subject


def test_membership_in_another_queue_does_not_bring_mail(
    customer, agent, other_agent, admin, queue, billing, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    services.set_queue_agents(queue=billing, actor=admin, agents=[agent])
    services.set_queue_agents(queue=queue, actor=admin, agents=[other_agent])
    open_ticket(customer, billing, django_capture_on_commit_callbacks)
    assert recipients(mailoutbox) == [agent.email]


def test_queue_without_agents_mails_all_active_staff(
    customer, agent, other_agent, admin, other_customer, billing, queue, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    # Membership elsewhere does not matter: the queue itself has nobody.
    services.set_queue_agents(queue=queue, actor=admin, agents=[agent])
    gone = make_user("gone@example.com", Role.AGENT)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    open_ticket(customer, billing, django_capture_on_commit_callbacks)
    assert recipients(mailoutbox) == sorted([agent.email, other_agent.email, admin.email])


def test_inactive_member_is_never_mailed(
    customer, agent, other_agent, admin, billing, mailoutbox, django_capture_on_commit_callbacks
):
    services.set_queue_agents(queue=billing, actor=admin, agents=[agent, other_agent])
    other_agent.is_active = False
    other_agent.save(update_fields=["is_active"])
    open_ticket(customer, billing, django_capture_on_commit_callbacks)
    assert recipients(mailoutbox) == [agent.email]


def test_queue_whose_members_are_all_inactive_falls_back_to_active_staff(
    customer, agent, other_agent, admin, billing, mailoutbox, django_capture_on_commit_callbacks
):
    services.set_queue_agents(queue=billing, actor=admin, agents=[other_agent])
    other_agent.is_active = False
    other_agent.save(update_fields=["is_active"])
    open_ticket(customer, billing, django_capture_on_commit_callbacks)
    assert recipients(mailoutbox) == sorted([agent.email, admin.email])


def test_member_demoted_to_customer_is_not_mailed(
    customer, agent, other_agent, admin, billing, mailoutbox, django_capture_on_commit_callbacks
):
    services.set_queue_agents(queue=billing, actor=admin, agents=[agent, other_agent])
    other_agent.role = Role.CUSTOMER
    other_agent.save(update_fields=["role"])
    open_ticket(customer, billing, django_capture_on_commit_callbacks)
    assert recipients(mailoutbox) == [agent.email]


def test_fallback_lists_each_person_once(agent, other_agent, admin, queue, billing):
    third = Queue.objects.create(name="Technical", slug="technical")
    services.set_queue_agents(queue=queue, actor=admin, agents=[agent, admin])
    services.set_queue_agents(queue=third, actor=admin, agents=[agent])
    emails = list(notified_agents(billing).values_list("email", flat=True))
    assert sorted(emails) == sorted([agent.email, other_agent.email, admin.email])


def test_forum_thread_moved_to_a_queue_mails_its_agents(
    customer, agent, other_agent, admin, billing, mailoutbox, django_capture_on_commit_callbacks
):
    from forum import services as forum_services
    from forum.models import Category

    services.set_queue_agents(queue=billing, actor=admin, agents=[other_agent])
    category = Category.objects.create(name="Help", slug="help")
    thread = forum_services.start_thread(
        author=customer, category=category, title="My invoice is wrong", body="Twice charged"
    )
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        forum_services.convert_thread_to_ticket(thread=thread, actor=agent, queue=billing)
    new = [m for m in mailoutbox if "New in" in m.subject]
    assert [m.to for m in new] == [[other_agent.email]]


def test_customer_cannot_be_made_a_member(customer, admin, billing):
    with pytest.raises(services.ServiceError):
        services.set_queue_agents(queue=billing, actor=admin, agents=[customer])
    assert not billing.agents.exists()


def test_only_admins_choose_a_queues_agents(agent, other_agent, billing):
    with pytest.raises(services.ServiceError):
        services.set_queue_agents(queue=billing, actor=agent, agents=[other_agent])
    assert not billing.agents.exists()


def queue_form(queue, agents):
    return {
        "name": queue.name,
        "slug": queue.slug,
        "description": "",
        "email_address": "",
        "is_public": "on",
        "inbound_token": "",
        "send_acknowledgement": "on",
        "order": "0",
        "agents": [a.pk for a in agents],
    }


def test_admin_site_sets_a_queues_agents(client, admin, agent, other_agent, billing):
    client.force_login(admin)
    url = reverse("admin:tickets_queue_change", args=[billing.pk])
    response = client.post(url, queue_form(billing, [agent, admin]))
    assert response.status_code == 302
    assert set(billing.agents.all()) == {agent, admin}


def test_admin_site_offers_and_accepts_only_staff(client, admin, agent, customer, billing):
    client.force_login(admin)
    url = reverse("admin:tickets_queue_change", args=[billing.pk])
    html = client.get(url).content.decode()
    assert f'value="{agent.pk}"' in html
    assert f'value="{customer.pk}"' not in html
    response = client.post(url, queue_form(billing, [agent, customer]))
    assert response.status_code == 200
    assert "agents" in response.context["adminform"].form.errors
    assert not billing.agents.exists()


def test_admin_queue_list_counts_members_in_one_query(
    client, admin, agent, other_agent, queue, billing, django_assert_max_num_queries
):
    for n in range(10):
        extra = Queue.objects.create(name=f"Extra {n}", slug=f"extra-{n}")
        services.set_queue_agents(queue=extra, actor=admin, agents=[agent, other_agent])
    services.set_queue_agents(queue=billing, actor=admin, agents=[agent])
    client.force_login(admin)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("admin:tickets_queue_changelist"))
    assert response.status_code == 200
    counts = {q.slug: q.active_agent_count for q in response.context["cl"].result_list}
    assert counts["billing"] == 1 and counts["extra-0"] == 2 and counts["general"] == 0


@pytest.mark.parametrize("members", [1, 20])
def test_new_ticket_mail_queries_do_not_grow_with_members(
    customer, admin, billing, members, mailoutbox, django_assert_max_num_queries
):
    agents = [make_user(f"agent{n}@example.com", Role.AGENT) for n in range(members)]
    services.set_queue_agents(queue=billing, actor=admin, agents=agents)
    ticket = services.create_ticket(requester=customer, subject="Help", body="Hi", queue=billing)
    # The ticket, its first message and author, the recipients, the thread's mail references.
    with django_assert_max_num_queries(9):
        assert new_ticket(ticket.pk) == 1
    assert len(mailoutbox[-1].to) == members


def test_choosing_recipients_is_one_query(agent, admin, billing, django_assert_num_queries):
    services.set_queue_agents(queue=billing, actor=admin, agents=[agent])
    with django_assert_num_queries(1):
        assert list(notified_agents(billing)) == [agent]
    billing.agents.clear()
    with django_assert_num_queries(1):
        assert set(notified_agents(billing)) == {agent, admin}


def test_my_queues_view_lists_only_tickets_in_the_agents_queues(
    agent_client, customer, agent, admin, queue, billing, django_assert_max_num_queries
):
    services.set_queue_agents(queue=billing, actor=admin, agents=[agent])
    for n in range(3):
        services.create_ticket(requester=customer, subject=f"Invoice {n}", body="?", queue=billing)
    services.create_ticket(requester=customer, subject="Printer", body="?", queue=queue)
    url = reverse("tickets:queue") + "?view=my_queues&status=active"
    # The same budget as the plain queue page (tests/tickets/test_query_counts.py).
    with django_assert_max_num_queries(8):
        response = agent_client.get(url)
    assert response.status_code == 200
    subjects = {row.subject for row in response.context["tickets"]}
    assert subjects == {"Invoice 0", "Invoice 1", "Invoice 2"}
    assert response.context["view"] == "my_queues"


def test_my_queues_view_is_empty_for_an_agent_in_no_queue(agent_client, customer, billing):
    services.create_ticket(requester=customer, subject="Invoice", body="?", queue=billing)
    response = agent_client.get(reverse("tickets:queue") + "?view=my_queues")
    assert response.status_code == 200
    assert list(response.context["tickets"]) == []
