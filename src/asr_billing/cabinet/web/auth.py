"""The cabinet pages' frame: who is looking (the session cookie), logging in and out,
automatic login by the visitor's address, idle expiry, CSRF refusals and the language.

The cookie holds the cabinet session id (``cabinet.services.cabinet_session_open``), so
a page visitor has exactly the session an API client would have: the same idle expiry
(cabinet['session.idle_minutes']), listed in the admin, ended by operators, closed by
logout. No Django session row is involved, which keeps a page to a handful of queries.

The visitor's address is the system API's (``system_api.access.client_ip``):
X-Forwarded-For counts only from network['api.trusted_proxies']. It is passed to the
cabinet services as both the caller and the subscriber's address: the pages are the
cabinet web site, and the browser is the subscriber.
"""

from __future__ import annotations

import contextlib
import functools
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from asr_billing.cabinet.services import (
    AuthFailure,
    NotAuthorized,
    OpenedSession,
    cabinet_auto_login,
    cabinet_login,
    cabinet_session_close,
    cabinet_session_get,
)
from asr_billing.core import runtime
from asr_billing.core.errors import InvalidInput, NotFound
from asr_billing.system_api.access import client_ip

SESSION_COOKIE = "asr_cabinet"
# Set by logout: this browser wants the login form, not to be logged in again by its
# address at once. A successful password login removes it.
MANUAL_COOKIE = "asr_cabinet_manual"
LANGUAGE_COOKIE = "asr_cabinet_language"
COOKIE_PATH = "/cabinet/"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LOGIN_MAX = 150  # longer input is not a login name (network.Login.login)


def client_address(request) -> str:
    """The visitor's address, as the system API sees its callers."""
    return client_ip(request.META, runtime.current())


def safe_reverse(name: str, *args) -> str | None:
    """The URL of a page, or None when it does not exist (yet): links to pages another
    module adds are left out rather than breaking this one."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def auto_login_enabled() -> bool:
    return runtime.current().get("cabinet", "web.auto_login") == "yes"


def activate_language(request) -> None:
    """The visitor's choice (the cabinet's language cookie), else app['language']
    (RuntimeConfigMiddleware has activated it). The choice is the cabinet's own: the
    admin and the APIs keep speaking the configured language."""
    chosen = request.COOKIES.get(LANGUAGE_COOKIE)
    if chosen in dict(settings.LANGUAGES):
        translation.activate(chosen)
        request.LANGUAGE_CODE = chosen


def _set_session_cookie(request, response, opened: OpenedSession) -> None:
    response.set_cookie(SESSION_COOKIE, opened.session_id, path=COOKIE_PATH, httponly=True,
                        samesite="Lax", secure=request.is_secure())
    response.delete_cookie(MANUAL_COOKIE, path=COOKIE_PATH)


def _try_auto_login(request) -> OpenedSession | None:
    if not auto_login_enabled() or request.COOKIES.get(MANUAL_COOKIE):
        return None
    address = client_address(request)
    try:
        return cabinet_auto_login(src_ip=address, source_ip=address)
    except (NotFound, InvalidInput):
        return None


def _to_login(request, *, expired: bool):
    if expired:
        messages.info(request, _("Your session has ended. Please log in again."))
    target = reverse("cabinet:login")
    if request.method == "GET":
        target += "?" + urlencode({"next": request.get_full_path()})
    response = HttpResponseRedirect(target)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


def cabinet_page(view):
    """A page for a logged-in subscriber: ``request.cabinet`` is the CabinetSession (its
    login, subscriber, account and tariff loaded). Without a live session: logged in by
    address when that is on and matches, else sent to the login form (with a note when
    a session had idled out)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        activate_language(request)
        suid = request.COOKIES.get(SESSION_COOKIE)
        opened = None
        try:
            if not suid:
                raise NotAuthorized()
            request.cabinet = cabinet_session_get(suid=suid)
        except NotAuthorized:
            opened = _try_auto_login(request)
            if opened is None:
                return _to_login(request, expired=bool(suid))
            request.cabinet = opened.session
        response = view(request, *args, **kwargs)
        if opened is not None:
            _set_session_cookie(request, response, opened)
        return response

    return wrapper


def _next_url(request, value: str | None) -> str:
    if value and value.startswith(COOKIE_PATH) and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("cabinet:home")


def login_page(request):
    """The login form. A visitor with a live session goes on to the cabinet."""
    activate_language(request)
    next_url = _next_url(request, request.POST.get("next") or request.GET.get("next"))
    suid = request.COOKIES.get(SESSION_COOKIE)
    if suid and request.method == "GET":
        try:
            cabinet_session_get(suid=suid)
            return HttpResponseRedirect(next_url)
        except NotAuthorized:
            pass
    error, name = "", ""
    if request.method == "POST":
        name = request.POST.get("login", "").strip()[:LOGIN_MAX]
        password = request.POST.get("password", "")
        if not name or not password:
            error = _("Enter your login and password.")
        else:
            address = client_address(request)
            try:
                opened = cabinet_login(login=name, password=password, source_ip=address,
                                       client_ip=address)
            except AuthFailure as exc:
                # The API's refusal is Carbon's Russian constant; the page speaks the
                # visitor's language. The throttle's wait is already translated.
                error = (_("Wrong login or password.") if exc.code == "wrong_login"
                         else str(exc.message))
            else:
                rotate_token(request)  # a new CSRF secret with the new identity
                response = HttpResponseRedirect(next_url)
                _set_session_cookie(request, response, opened)
                return response
    return render(request, "cabinet/login.html", {
        "error": error, "login_name": name, "next": next_url,
        "auto_login": auto_login_enabled(),
    }, status=200 if not error else 400)


@require_POST
def logout_page(request):
    """End the session (its id stops working at once) and show the login form."""
    activate_language(request)
    suid = request.COOKIES.get(SESSION_COOKIE)
    if suid:
        with contextlib.suppress(NotAuthorized):  # already ended: nothing to close
            cabinet_session_close(session=cabinet_session_get(suid=suid))
    messages.success(request, _("You have logged out"))
    response = HttpResponseRedirect(reverse("cabinet:login"))
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    response.set_cookie(MANUAL_COOKIE, "1", path=COOKIE_PATH, httponly=True, samesite="Lax",
                        secure=request.is_secure())
    return response


@require_POST
def language_page(request):
    """Remember the visitor's language (a cookie of the cabinet's) and go back."""
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(_next_url(request, request.POST.get("next")))
    if language in dict(settings.LANGUAGES):
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=LANGUAGE_COOKIE_AGE,
                            path=COOKIE_PATH, samesite="Lax", secure=request.is_secure())
    return response


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: in the cabinet a page in the subscriber's words (the
    form was open too long, or cookies are off); elsewhere Django's own answer, so the
    admin and the APIs answer as before."""
    from django.views.csrf import csrf_failure as django_csrf_failure

    if not request.path.startswith(COOKIE_PATH):
        return django_csrf_failure(request, reason)
    activate_language(request)
    referer = urlsplit(request.META.get("HTTP_REFERER", ""))
    back = _next_url(request, referer.path + (f"?{referer.query}" if referer.query else ""))
    return render(request, "cabinet/csrf_failure.html", {"back": back}, status=403)
