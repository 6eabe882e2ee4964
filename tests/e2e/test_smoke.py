"""Each role signs in through the form and sees its own navigation; the page shell works."""

import pytest
from playwright.sync_api import expect

from helpdesk.models import Role
from tests.conftest import make_user

pytestmark = pytest.mark.browser

NAV_LINKS = ["My tickets", "Queue", "Admin"]


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        (Role.CUSTOMER, {"My tickets"}),
        (Role.AGENT, {"Queue"}),
        (Role.ADMIN, {"Queue", "Admin"}),
    ],
    ids=["customer", "agent", "admin"],
)
def test_each_role_sees_its_own_navigation(page, signed_in, screenshot, role, visible):
    user = make_user(f"{role}@example.com", role, name=f"Pat {role.label}")
    signed_in(page, user)

    nav = page.get_by_role("navigation", name="Main")
    for name in NAV_LINKS:
        link = nav.get_by_role("link", name=name, exact=True)
        if name in visible:
            expect(link).to_be_visible()
        else:
            expect(link).to_have_count(0)
    screenshot(page, "home")


def test_skip_link_appears_on_focus_and_jumps_to_content(page, screenshot):
    page.goto("/")
    skip = page.get_by_role("link", name="Skip to content")
    # Playwright counts an element parked off-screen as "visible"; the viewport is what matters.
    expect(skip).not_to_be_in_viewport()

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    screenshot(page, "skip-link")

    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()


def test_htmx_is_loaded(page):
    page.goto("/")
    page.wait_for_function("() => typeof window.htmx === 'object' && !!window.htmx.version")
