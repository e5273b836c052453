"""Signing in: the token link printed by `litgap serve`, a wrong token, no session."""

from playwright.sync_api import Page, expect

from tests.browser.browser_support import Server


def test_login_link_with_token_signs_in_and_opens_the_dashboard(
    anonymous_page: Page, server: Server
) -> None:
    anonymous_page.goto(f"/login#token={server.tokens['alice']}")

    expect(anonymous_page).to_have_url(f"{server.url}/")
    expect(anonymous_page.get_by_role("banner")).to_contain_text("alice (operator)")
    expect(anonymous_page.locator("#live-status")).to_have_text("Live")


def test_wrong_token_is_refused_with_a_message(anonymous_page: Page, server: Server) -> None:
    anonymous_page.goto("/login")
    anonymous_page.get_by_label("Token").fill("lg_not-a-real-token")
    anonymous_page.get_by_role("button", name="Sign in").click()

    expect(anonymous_page.get_by_role("alert")).to_have_text(
        "That token is not valid. Check it and try again."
    )
    expect(anonymous_page).to_have_url(f"{server.url}/login")


def test_dashboard_without_a_session_redirects_to_sign_in(
    anonymous_page: Page, server: Server
) -> None:
    anonymous_page.goto("/")

    expect(anonymous_page).to_have_url(f"{server.url}/login")
    expect(anonymous_page.get_by_role("heading", name="Sign in to litgap")).to_be_visible()
