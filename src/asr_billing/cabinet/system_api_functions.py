"""The ``web_cabinet.*`` functions of the system API (context=web), autodiscovered by
``system_api``. Each one reads its arguments, calls the cabinet services and selectors,
and shapes the answer with ``cabinet.wire`` (Carbon's field names and types).

Every function but login, try_auto_login, reset_password, submit_password and
get_vpn_const needs the session id: ``suid`` in arg1 (JS, Kotlin, Go clients) or as a
top-level parameter (the old PHP helper; the dispatcher copies it into arg1). Without a
valid one the answer is exactly ``{"error": "Необходимо авторизоваться"}``.

A refusal that counted a failed attempt (AuthFailure) is answered as a value, not raised,
so that the dispatcher's (or REST v2's) transaction keeps the count.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from asr_billing.billing.selectors import voluntary_block_current
from asr_billing.cabinet import selectors, texts, wire
from asr_billing.cabinet.payments import pending_payment_create
from asr_billing.cabinet.reset import cabinet_password_reset_request, cabinet_password_reset_submit
from asr_billing.cabinet.services import (
    UNSET,
    AuthFailure,
    NotAuthorized,
    OpenedSession,
    cabinet_auto_login,
    cabinet_login,
    cabinet_options,
    cabinet_profile_update,
    cabinet_service_connect,
    cabinet_service_disconnect,
    cabinet_session_close,
    cabinet_session_get,
    session_actor,
)
from asr_billing.core.errors import InvalidInput
from asr_billing.core.money import fmt
from asr_billing.system_api.params import EMPTY_DATE, parse_moment
from asr_billing.system_api.registry import CABINET_ERRORS, api_function

PER_PAGE_DEFAULT, PER_PAGE_MAX = 50, 500
PAGE_MAX = 1_000_000  # an SQL OFFSET must stay a 64-bit number


def cabinet(name: str, *, writes: bool = False):
    return api_function(f"web_cabinet.{name}", context="web", errors=CABINET_ERRORS,
                        writes=writes)


def _session(call):
    """The caller's live session (suid in arg1 or top-level), else NotAuthorized."""
    suid = call.suid or call.args.get("suid")
    if isinstance(suid, bool) or not isinstance(suid, (str, int)):
        raise NotAuthorized()
    return cabinet_session_get(suid=str(suid))


def _secret(call, name: str):
    """A password as sent: a string, or a number some clients send unquoted."""
    value = call.args.get(name)
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None


def _day(call, name: str, *, required: bool = False) -> date | None:
    """A date as cabinets send it (31.12.2024) or ISO (2024-12-31)."""
    if not call.args.present(name):
        if required:
            raise InvalidInput(_("Argument %(name)s is required") % {"name": name})
        return None
    value = call.args[name]
    parsed = parse_moment(str(value)) if not isinstance(value, (dict, list)) else None
    if parsed is None or parsed is EMPTY_DATE:
        raise InvalidInput(
            _("Argument %(name)s must be a date such as 31.12.2024, not %(value)s")
            % {"name": name, "value": str(value)[:40]}
        )
    moment = parsed[0]
    return moment.date() if isinstance(moment, datetime) else moment


def _page_numbers(call) -> tuple[int, int]:
    page = call.args.integer("page_number", default=1)
    per_page = call.args.integer("per_page", default=PER_PAGE_DEFAULT)
    if not 1 <= page <= PAGE_MAX:
        raise InvalidInput(_("page_number must be from 1 to %(max)d") % {"max": PAGE_MAX})
    if not 1 <= per_page <= PER_PAGE_MAX:
        raise InvalidInput(_("per_page must be from 1 to %(max)d") % {"max": PER_PAGE_MAX})
    return page, per_page


# --- Logging in and out ---------------------------------------------------------------------


def _user(login) -> dict:
    """The ``user`` object of login and get_user: the login, its subscriber's money and
    voluntary block today."""
    day = selectors.today()
    money = selectors.money_state(login.subscriber, day)
    block = voluntary_block_current(login.subscriber_id, day)
    return wire.user(login, money=money, block=block, day=day)


def _login_answer(opened: OpenedSession) -> dict:
    return {
        "session_id": opened.session_id,
        "user": _user(opened.session.login),
        "currency": wire.currency(),
    }


@cabinet("login")
def login(call):
    """{"login", "passwd"[, "src_ip"]} -> session_id, user, currency."""
    try:
        opened = cabinet_login(
            login=call.args.text("login"),
            password=_secret(call, "passwd"),
            source_ip=call.source_ip,
            client_ip=call.args.text("src_ip") or None,
        )
    except AuthFailure as exc:
        return {"error": str(exc.message)}
    return _login_answer(opened)


@cabinet("try_auto_login")
def try_auto_login(call):
    """{"src_ip"} -> as login, for the enabled login holding that IP. ``src_ip`` counts
    only from network['api.cabinet_servers']; anyone else logs in by its own address."""
    opened = cabinet_auto_login(src_ip=call.args.text("src_ip"), source_ip=call.source_ip)
    return _login_answer(opened)


@cabinet("logout")
def logout(call):
    """{"suid"} -> {"message"}; the session id stops working."""
    cabinet_session_close(session=_session(call))
    return {"message": _("You have logged out")}


# --- What the subscriber sees ----------------------------------------------------------------


@cabinet("user_info")
def user_info(call):
    """{"suid"} -> flat: tarif_id, balance, in_block, enough_to_date, minimal_pay_sum..."""
    subscriber = _session(call).login.subscriber
    day = selectors.today()
    return wire.user_info(subscriber, money=selectors.money_state(subscriber, day), day=day)


@cabinet("get_user")
def get_user(call):
    """{"suid"} -> {"user": {... "abonent": {...}}, "__user"}."""
    login = _session(call).login
    return {"user": _user(login), "__user": login.login}


@cabinet("get_pay_log")
def get_pay_log(call):
    """{"start_date", "end_date", "page_number", "per_page"} -> a page of payments."""
    login = _session(call).login
    first, last = _day(call, "start_date"), _day(call, "end_date")
    page, per_page = _page_numbers(call)
    rows, count = selectors.pay_log(subscriber_id=login.subscriber_id, first=first, last=last,
                                    offset=(page - 1) * per_page, limit=per_page)
    pages = max(1, -(-count // per_page))
    # Counts as strings, as in Carbon's other paged cabinet answers (helpdesk).
    return {
        "items": [wire.payment(row) for row in rows],
        "count": str(count),
        "num_pages": str(pages),
        "current_page": str(page),
        "per_page": str(per_page),
        "has_next_page": wire.flag(page < pages),
        "has_previous_page": wire.flag(page > 1),
    }


@cabinet("get_usluga_list")
def get_usluga_list(call):
    """-> [services offered, the subscriber's services, descriptions], three lists."""
    login = _session(call).login
    day = selectors.today()
    mine = (selectors.services_connected(login.subscriber_id, day)
            if call.args.flag("get_user_uslugas", default=True) else [])
    offered = []
    if call.args.flag("get_user_uslugas_all", default=True):
        offered = selectors.services_offered(call.args.text("filter"))
        if not call.args.flag("get_setted", default=True):
            taken = {link.service_id for link in mine}
            offered = [service for service in offered if service.pk not in taken]
    described = {service.pk: service for service in offered}
    described.update((link.service_id, link.service) for link in mine)
    return [
        [wire.offered_service(service) for service in offered],
        [wire.connected_service(link, day) for link in mine],
        [wire.service_description(service) for service in described.values()],
    ]


@cabinet("get_promise_pay_list")
def get_promise_pay_list(call):
    """{"suid"} -> the subscriber's promised payments, newest first."""
    login = _session(call).login
    return [wire.promised(item) for item in selectors.promised_payments(login.subscriber_id)]


@cabinet("get_vpn_const")
def get_vpn_const(call):
    """{} -> the cabinet's constants (ours: Carbon's answer is not known). With a suid,
    the promised payment terms are those of the subscriber's tariff."""
    from asr_billing.billing.options import billing_options, promised_terms

    tariff = None
    if call.suid or call.args.present("suid"):
        tariff = _session(call).login.subscriber.tariff
    options = billing_options()
    terms = promised_terms(options, tariff)
    return {
        "currency": wire.currency(),
        "time_zone": options.time_zone,
        "session_idle_minutes": int(cabinet_options().idle.total_seconds() // 60),
        "password_max_length": 15,
        "promise_pay_summa": fmt(terms.amount),
        "promise_pay_days": terms.days,
        "own_block_min_days": options.vblock_min_days,
        "own_block_max_days": options.vblock_max_days,
        "own_block_cost": fmt(options.vblock_cost),
    }


# --- What the subscriber changes --------------------------------------------------------------


@cabinet("set_user_usluga", writes=True)
def set_user_usluga(call):
    """{"usluga_id"} -> {"message": "Услуга <name> подключена"}."""
    session = _session(call)
    link = cabinet_service_connect(session=session,
                                   service_id=call.args.object_id("usluga_id"))
    return {"message": texts.SERVICE_CONNECTED.format(link.service.name), "status": "ok",
            "usluga_id": link.service_id, "user_usluga_id": link.pk}


@cabinet("remove_user_usluga", writes=True)
def remove_user_usluga(call):
    """{"usluga_id"} (the service) or {"user_usluga_id"} (the connection) -> {"message"}."""
    session = _session(call)
    if call.args.present("user_usluga_id"):
        link = cabinet_service_disconnect(session=session,
                                          link_id=call.args.object_id("user_usluga_id"))
    else:
        link = cabinet_service_disconnect(session=session,
                                          service_id=call.args.object_id("usluga_id"))
    return {
        "message": _("Service %(name)s is disconnected from %(day)s")
        % {"name": link.service.name, "day": wire.ru_day(link.disabled_on)},
        "status": "ok",
        "usluga_id": link.service_id,
        "user_usluga_id": link.pk,
    }


@cabinet("block_user", writes=True)
def block_user(call):
    """{"start_date", "end_date"} (dd.mm.yyyy) -> a voluntary block."""
    from asr_billing.billing.services import voluntary_block_create

    session = _session(call)
    start, end = _day(call, "start_date", required=True), _day(call, "end_date", required=True)
    block = voluntary_block_create(subscriber=session.login.subscriber, start_date=start,
                                   end_date=end, actor=session_actor(session.login))
    return {
        "status": "ok",
        "result": "ok",
        "message": _("Voluntary block from %(start)s to %(end)s is set")
        % {"start": wire.ru_day(block.start_date), "end": wire.ru_day(block.end_date)},
        "block_id": str(block.pk),
        "start_date": wire.ru_day(block.start_date),
        "end_date": wire.ru_day(block.end_date),
        "cost": fmt(block.cost),
    }


@cabinet("unblock_user", writes=True)
def unblock_user(call):
    """{"suid"} -> lifts the current (or cancels the planned) voluntary block."""
    from asr_billing.billing.services import voluntary_block_lift

    session = _session(call)
    result = voluntary_block_lift(subscriber=session.login.subscriber,
                                  actor=session_actor(session.login))
    return {"status": "ok", "message": result.message, "block_id": str(result.block.pk)}


@cabinet("set_promise_pay", writes=True)
def set_promise_pay(call):
    """{"suid"} -> takes a promised payment on the billing's terms."""
    from asr_billing.billing.services import promised_payment_take

    session = _session(call)
    promised = promised_payment_take(subscriber=session.login.subscriber,
                                     actor=session_actor(session.login))
    until = wire.moment_t(promised.expires_at)
    return {
        "status": "ok",
        "message": _("A promised payment of %(amount)s is added until %(until)s")
        % {"amount": fmt(promised.amount),
           "until": selectors.local(promised.expires_at).strftime("%d.%m.%Y %H:%M")},
        "pk": promised.pk,
        "summa": fmt(promised.amount),
        "end_time": until,
    }


@cabinet("set_user_info", writes=True)
def set_user_info(call):
    """{"user_password"} / {"sms"} / {"email"} (any together) -> {"message": "Сохранено"}."""
    session = _session(call)
    args = call.args
    cabinet_profile_update(
        session=session,
        password=_secret(call, "user_password") if "user_password" in args else UNSET,
        sms=args.text("sms") if "sms" in args else UNSET,
        email=args.text("email") if "email" in args else UNSET,
    )
    return {"message": texts.SAVED}


@cabinet("add_payment_operation", writes=True)
def add_payment_operation(call):
    """{"summa_in", "operator", "contract_number", "src_ip"} -> {"operation_id_out"}: the
    order number for the bank; the money comes when the bank confirms."""
    session = _session(call)
    pending = pending_payment_create(
        session=session,
        amount=call.args.get("summa_in"),
        operator=call.args.text("operator"),
        contract_number=call.args.text("contract_number"),
        src_ip=call.args.text("src_ip") or None,
    )
    return {
        "operation_id_out": pending.pk,
        "summa_in": fmt(pending.amount),
        "operator": pending.operator.code,
        "contract_number": session.login.subscriber.contract_number,
        "status": pending.status,
    }


# --- Forgotten password -----------------------------------------------------------------------


@cabinet("reset_password", writes=True)
def reset_password(call):
    """{"login", "base_url"[, "src_ip"]} -> e-mails a code (and a link when base_url is a
    URL). One answer whether or not the login exists or has an e-mail address."""
    base_url = call.args.text("base_url")
    cabinet_password_reset_request(
        login=call.args.text("login", required=True),
        base_url="" if base_url.lower() in ("null", "none") else base_url,
        source_ip=call.source_ip,
        client_ip=call.args.text("src_ip") or None,
    )
    return {"message": _("If this login exists and has an e-mail address, a code has been "
                         "sent to it.")}


@cabinet("submit_password")
def submit_password(call):
    """{"token", "uid", "psw1", "psw2"} -> sets the new password."""
    if not call.args.present("uid"):
        raise InvalidInput(_("Argument %(name)s is required") % {"name": "uid"})
    try:
        cabinet_password_reset_submit(
            token=call.args.text("token"),
            uid=call.args.text("uid"),
            password1=_secret(call, "psw1"),
            password2=_secret(call, "psw2"),
        )
    except AuthFailure as exc:
        return {"error": str(exc.message)}
    return {"message": texts.SAVED}


# The helpdesk and notification functions live beside; importing registers them.
from asr_billing.cabinet import functions_helpdesk  # noqa: E402, F401
