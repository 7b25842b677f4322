"""Carbon's answer shapes for the cabinet functions (reference carbon-api.md §4.2).

Field names and value types are those the known clients read:

- money: strings with 2 places (``"390.67"``), as everywhere in our JSON. The PHP
  (Laravel) client does arithmetic on them (numeric strings), the JS cabinet calls
  ``parseFloat``, the Go client reads ``minimal_pay_sum`` as ``json.Number`` (which takes
  a numeric string), the Kotlin app declares them ``String``.
- flags: ``"1"`` / ``"0"`` strings (``enabled``, ``allow_internet``, ``in_block``,
  ``activated``...): Go declares them ``string`` and compares with ``"1"``; Kotlin too.
- text the Go/Kotlin clients declare ``string`` is always a string, ``""`` when empty
  (never null, which Go would also accept, but Kotlin's non-null fields would not).
- ids: JSON numbers where clients read them into typed fields (Gson reads a number into a
  Kotlin ``String`` field as its digits), but **strings in get_usluga_list's lists**: the
  Android cabinet reads those as ``Map<String, Any>``, where Gson turns every JSON number
  into a Double — ``pk: 2`` came back to set_user_usluga as ``usluga_id: "2.0"``.
- ``__account``: ``"№ <account number> Баланс: <balance>"`` — the JS client splits it on
  spaces ([1] the account, [3] the balance), Go and Kotlin cut after ``Баланс:``.
- dates ``YYYY-MM-DD``; moments in local time: ``YYYY-MM-DDTHH:MM:SS`` where a JS client
  feeds them to ``new Date()`` (pay log, services), ``YYYY-MM-DD HH:MM:SS`` in
  get_user's ``create_date*`` (the Kotlin app shows the part before the space);
  voluntary block dates ``dd.mm.yyyy``, as clients send them to block_user.
"""

from __future__ import annotations

from datetime import date, datetime

from asr_billing.cabinet import selectors, texts
from asr_billing.core import runtime
from asr_billing.core.money import fmt
from asr_billing.subscribers.selectors import subscriber_in_block
from asr_billing.tariffs.models import ChargeMethod

# app['currency'] -> (NAME, SHORT_NAME) as the cabinet shows them.
CURRENCIES = {
    "RUB": ("Российский рубль", "руб."),
    "BYN": ("Белорусский рубль", "бел. руб."),
    "KZT": ("Казахстанский тенге", "тг."),
    "UAH": ("Украинская гривна", "грн."),
    "KGS": ("Киргизский сом", "сом"),
    "UZS": ("Узбекский сум", "сум"),
    "TJS": ("Таджикский сомони", "сомони"),
    "AMD": ("Армянский драм", "драм"),
    "AZN": ("Азербайджанский манат", "ман."),
    "GEL": ("Грузинский лари", "лари"),
    "MDL": ("Молдавский лей", "лей"),
    "USD": ("Доллар США", "$"),
    "EUR": ("Евро", "€"),
}


def currency() -> dict:
    code = runtime.current().currency
    name, short = CURRENCIES.get(code, (code, code))
    return {"NAME": name, "SHORT_NAME": short, "CODE": code}


def flag(value) -> str:
    return "1" if value else "0"


def id_text(value: int) -> str:
    """An id as a string, for lists the Android cabinet reads as ``Map<String, Any>``
    (Gson would make a JSON number 2 the Double 2.0, sent back as "2.0")."""
    return str(value)


def day_text(value: date | None) -> str:
    return value.isoformat() if value else ""


def ru_day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def moment_t(value: datetime | None) -> str:
    return selectors.local(value).strftime("%Y-%m-%dT%H:%M:%S") if value else ""


def moment_space(value: datetime | None) -> str:
    return selectors.local(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def account_text(subscriber) -> str:
    return f"№ {subscriber.pk} Баланс: {fmt(subscriber.account.balance)}"


def service_text(service) -> str:
    """``"Name: method (fee руб.)"``: the JS cabinet takes the name before ``:`` and the
    price from ``(`` to ``руб``."""
    method = str(ChargeMethod(service.charge_method).label)
    return f"{service.name}: {method} ({fmt(service.fee)} {currency()['SHORT_NAME']})"


def tariff(tariff) -> dict:
    if tariff is None:
        return {}
    return {
        "pk": tariff.pk,
        "name": tariff.name,
        "__self": tariff.name,
        "__tarif": tariff.name,  # the Kotlin app reads abonent.tarif.__tarif
        "summa": fmt(tariff.fee),
        "charge_method": tariff.charge_method,
        "speed_in": tariff.rate_in or 0,
        "speed_out": tariff.rate_out or 0,
    }


def abonent(subscriber, *, money: selectors.MoneyState, block) -> dict:
    """The subscriber part of login and get_user answers."""
    account = account_text(subscriber)
    return {
        "pk": subscriber.pk,
        "name": subscriber.name,
        "contract_number": subscriber.contract_number,
        "activate_date": day_text(subscriber.connected_on),
        "create_date": moment_space(subscriber.created_at),
        "create_date_system": moment_space(subscriber.created_at),
        "__account": account,
        "__tarif": subscriber.tariff.name if subscriber.tariff_id else "",
        "__home": subscriber.address,
        "a_home_number": subscriber.apartment,
        "sms": subscriber.sms_phone,
        "email": subscriber.email,
        "phone": subscriber.phone,
        "balance": fmt(money.balance),
        "credit": fmt(money.credit),
        "promise_pay": fmt(money.promised),
        "recomend_pay_sum": fmt(money.recommended_pay),
        "minimal_pay_sum": fmt(money.minimal_pay),
        "abon_pay_for_today": fmt(money.fee_today),
        "allow_internet": flag(not subscriber_in_block(subscriber)),
        "own_disabled_start": ru_day(block.start_date if block else None),
        "own_disabled_end": ru_day(block.end_date if block else None),
        "account": {"pk": subscriber.pk, "__self": account, "balance": fmt(money.balance)},
        "tarif": tariff(subscriber.tariff),
    }


def user(login, *, money: selectors.MoneyState, block, day: date) -> dict:
    """The ``user`` object of login and get_user: the login with its subscriber."""
    subscriber = login.subscriber
    tariff_now = subscriber.tariff
    next_day = selectors.next_charge_date(tariff_now, day)
    return {
        "pk": login.pk,
        "login": login.login,
        "__self": login.login,
        "__abonent": subscriber.name,
        "enabled": flag(login.enabled),
        "ip": login.ip or "",
        "phone": subscriber.phone,
        "email": subscriber.email,
        "home": subscriber.address,
        "abonent_pay": fmt(tariff_now.fee) if tariff_now is not None else "0.00",
        "abonent_pay_next_date": day_text(next_day),
        "abonent": abonent(subscriber, money=money, block=block),
    }


def user_info(subscriber, *, money: selectors.MoneyState, day: date) -> dict:
    """The flat object of web_cabinet.user_info (the Laravel client's UserInfoDTO reads
    tarif_id, balance, in_block, enough_to_date, minimal_pay_sum)."""
    lasts = money.lasts
    return {
        "abonent_id": subscriber.pk,
        "contract_number": subscriber.contract_number,
        "tarif_id": subscriber.tariff_id,
        "tarif": subscriber.tariff.name if subscriber.tariff_id else "",
        "balance": fmt(money.balance),
        "credit": fmt(money.credit),
        "promise_pay": fmt(money.promised),
        "in_block": flag(subscriber_in_block(subscriber)),
        "negbal": flag(subscriber.negbal),
        "admin_blocked": flag(subscriber.admin_blocked),
        "own_blocked": flag(subscriber.voluntary_blocked),
        "enough_to_date": day_text(lasts.until),
        "days_until": lasts.days if lasts.days is not None else "",
        "minimal_pay_sum": fmt(money.minimal_pay),
        "recomend_pay_sum": fmt(money.recommended_pay),
        "abon_pay_for_today": fmt(money.fee_today),
        "today": day_text(day),
    }


def offered_service(service) -> dict:
    """get_usluga_list[0]. Ids and flags are strings: the Android cabinet reads each list
    as Map<String, Any> (Gson: every number a Double) and compares is_show_web == "1"."""
    return {
        "pk": id_text(service.pk),
        "name": service.name,
        "__self": service_text(service),
        "comments": service.comments,
        "summa": fmt(service.fee),
        "charge_method": service.charge_method,
        "is_show_web": flag(service.is_show_web),
        "web_allow_enable": flag(service.web_allow_enable),
        "web_allow_disable": flag(service.web_allow_disable),
    }


def connected_service(link, day: date) -> dict:
    """get_usluga_list[1]; ids and flags strings, as in offered_service."""
    service = link.service
    return {
        "pk": id_text(link.pk),
        "id": id_text(link.pk),  # the Kotlin app reads "id"
        "usluga_id": id_text(service.pk),
        "__usluga": service.name,
        "__self": service_text(service),
        "summa": fmt(service.fee),
        "enable_date": day_text(link.enabled_on),
        "disable_date": day_text(link.disabled_on),
        "create_date": moment_t(link.created_at),
        "activated": flag(link.enabled_on <= day),
        "web_allow_disable": flag(service.web_allow_disable),
        "comment": link.comment,
    }


def payment(operation) -> dict:
    operator = operation.pay_operator
    return {
        "op_id": operation.pk,
        "op_date": moment_t(operation.op_date),
        "op_summa": fmt(operation.amount),
        "op_type_id": operation.type,
        "descr": operation.description,
        "operator": operator.code if operator else "",
        "__operator": operator.name if operator else "",
        "balance_after": fmt(operation.balance_after),
    }


def promised(item) -> dict:
    """Django-serialised, as the promised-payment DTO some clients have maps it."""
    return {
        "pk": item.pk,
        "model": "PromisePay",
        "fields": {
            "create_date": moment_t(item.created_at),
            "end_time": moment_t(item.expires_at),
            "summa": fmt(item.amount),
            "closed_time": moment_t(item.closed_at),
            "active": flag(item.closed_at is None),
        },
    }


def service_description(service) -> dict:
    """get_usluga_list[2]: the Android cabinet maps names to this pk (a string, as above)."""
    return {"pk": id_text(service.pk), "name": service.name, "comments": service.comments}


# --- Helpdesk and notifications ---------------------------------------------------------------
# Every value a string: the Android cabinet declares each field String (TicketResponse.kt,
# CommentResponse.kt) and the counters of Carbon's paged answers are strings.

TICKET_STATUS_TEXT = {
    "open": texts.TICKET_STATUS_OPEN,
    "answered": texts.TICKET_STATUS_ANSWERED,
    "closed": texts.TICKET_STATUS_CLOSED,
}
# Carbon names the operator who wrote a comment; the Android cabinet shows a comment as
# support's only when __creator_abonent is "root" (Carbon's superuser). Every operator's
# message is signed so: the app recognises it, and subscribers do not learn our operators'
# user names.
OPERATOR_SIGNATURE = "root"


def helpdesk_moment(value: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` in local time, always with microseconds: the Android
    cabinet parses ``yyyy-MM-dd HH:mm:ss.SSSSSS`` (ticket page) and cuts the list's date
    at the ``.``."""
    return selectors.local(value).strftime("%Y-%m-%d %H:%M:%S.%f") if value else ""


def ticket(item) -> dict:
    """One item of get_helpdesk_dialogs (Android TicketItem: id, pk, subj, __status,
    hdsk_datetime, text, child_count); ``state``, ``unread_count`` and
    ``update_datetime`` are ours."""
    return {
        "id": id_text(item.pk),
        "pk": id_text(item.pk),
        "subj": item.subject,
        "__status": TICKET_STATUS_TEXT[item.status],
        "state": item.status,
        "hdsk_datetime": helpdesk_moment(item.created_at),
        "update_datetime": helpdesk_moment(item.updated_at),
        "text": item.text,
        "child_count": str(item.message_count),
        "unread_count": str(item.unread_count),
    }


def ticket_comment(message, subscriber_name: str) -> dict:
    """One item of get_helpdesk_comments (Android CommentResponse: id, pk, text,
    create_date, __creator_abonent, read_comment). ``read_comment``: "1" when the other
    side had read it before this answer; ``from_operator`` is ours."""
    by_operator = message.author == "operator"
    return {
        "id": id_text(message.pk),
        "pk": id_text(message.pk),
        "text": message.text,
        "create_date": helpdesk_moment(message.created_at),
        "__creator_abonent": OPERATOR_SIGNATURE if by_operator else subscriber_name,
        "read_comment": flag(message.read_at is not None),
        "from_operator": flag(by_operator),
    }


def notice(item) -> dict:
    """One of get_notifications_for_user's ``notifications`` (the Go cabinet reads text
    and type). ``id`` and ``date`` are ours, ``""`` for notices about the subscriber's
    own state (they go away with the state, not by being marked read)."""
    notification = item.notification
    return {
        "text": item.text,
        "type": str(item.type),
        "id": id_text(notification.pk) if notification is not None else "",
        "date": moment_space(notification.starts_at) if notification is not None else "",
    }
