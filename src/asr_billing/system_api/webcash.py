"""webcash (context=webcash): the operator cash desk ("Вебкасса", reference §4.5).

Carbon's PHP helper (carbonsoft/billing_api_tools, web_cash.php) has one call,
``WebCashApi::get_vpn_const()``: ``model=Abonents&method1=webcash.get_vpn_const&arg1=[]``
(PHP's json_encode of an empty array) with ``format=json``, ``context=webcash`` and
``psw=network['api.webcash.psw']``; it returns the json_decode()d body as an array to its
caller, so the answer must be one JSON object. What Carbon put in it is not public: ours
are the constants a cash desk needs to take a payment — the currency, the time zone and
the server's local time, how an amount is written and how large it may be, and the
payment operators it may pay under. Other methods of this context answer "Unknown
method" (system_api.views).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import timezone

from asr_billing.cabinet.wire import currency
from asr_billing.core import runtime
from asr_billing.core.money import CENT, DECIMAL_PLACES, TOO_LARGE, fmt
from asr_billing.system_api.params import Call
from asr_billing.system_api.registry import CABINET_ERRORS, api_function
from asr_billing.system_api.selectors import payment_operators_enabled


@api_function("webcash.get_vpn_const", context="webcash", errors=CABINET_ERRORS)
def get_vpn_const(call: Call) -> dict:
    """``{}`` (or ``[]``) -> the cash desk's constants; every value is read fresh, so a
    config edit shows in the next answer. ``max_amount``: the largest amount a payment or
    a balance can hold (the database column's limit)."""
    snapshot = runtime.current()
    now = timezone.localtime(timezone.now(), ZoneInfo(snapshot.time_zone))
    return {
        "currency": currency(),
        "time_zone": snapshot.time_zone,
        "now": now.strftime("%Y-%m-%d %H:%M:%S"),
        "today": now.date().isoformat(),
        "money_places": DECIMAL_PLACES,
        "max_amount": fmt(TOO_LARGE - CENT),
        "pay_operators": [
            {"code": code, "name": name} for code, name in payment_operators_enabled()
        ],
    }
