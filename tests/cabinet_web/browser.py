"""Browser steps the cabinet's Chromium tests share: logging in (in English on a desktop,
in Russian on a phone), opening a page from the menu, reading a figure."""

from __future__ import annotations

from tests.cabinet_web.conftest import LOGIN, PASSWORD, PHONE


def log_in(page, base: str, password: str = PASSWORD) -> None:
    page.goto(base + "/cabinet/")
    assert page.url.startswith(base + "/cabinet/login/")
    page.get_by_label("Login").fill(LOGIN)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")  # the keyboard submits the form


def logged_in(web) -> tuple[str, object]:
    """(base URL, a new English desktop page logged in with the notes' login, on the
    cabinet's home page)."""
    base, new_page = web
    page = new_page()
    log_in(page, base)
    page.wait_for_url(base + "/cabinet/")
    return base, page


def logged_in_ru_phone(web) -> tuple[str, object]:
    """(base URL, a new Russian page of a phone's size logged in through the form's
    button, on the cabinet's home page)."""
    base, new_page = web
    page = new_page(language="ru", viewport=PHONE)
    page.goto(base + "/cabinet/login/")
    page.get_by_label("Логин").fill(LOGIN)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(base + "/cabinet/")
    return base, page


def open_from_menu(page, base: str, link: str, path: str, exact: bool | None = None) -> None:
    """Follow the menu's LINK and wait for PATH."""
    page.get_by_role("link", name=link, exact=exact).first.click()
    page.wait_for_url(base + path)


def figure(page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"]').first.inner_text().split("\n")[0].strip()
