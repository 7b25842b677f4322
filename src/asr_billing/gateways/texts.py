"""Wire texts of the XML protocols: fixed, not translated (agents' logs and support
compare them). Carbon's own texts where its catalogue has one (reference §4.4)."""

from __future__ import annotations

from asr_billing.gateways.base import Reason

# OSMP <comment> (also Sberbank's protocol 2, which answers in OSMP's words).
OSMP_COMMENTS = {
    Reason.OK: "OK",
    Reason.TEMPORARY: "Временная ошибка. Повторите запрос позже",
    Reason.BAD_REQUEST: "Неверный запрос",
    Reason.UNKNOWN_COMMAND: "Неизвестная команда! ({0})",  # Carbon
    Reason.BAD_ACCOUNT: "Неверный формат идентификатора абонента",
    Reason.NOT_FOUND: "Абонент не найден! ({0})",  # Carbon
    Reason.INACTIVE: "Счет абонента не активен",
    Reason.BAD_TXN: "Неверное значение идентификатора транзакции",
    Reason.BAD_AMOUNT: "Неверно введена сумма платежа",  # Carbon
    Reason.TOO_SMALL: "Сумма слишком мала",
    Reason.TOO_LARGE: "Сумма слишком велика",
    Reason.BAD_DATE: "Неверное значение даты",
    Reason.MISMATCH: "Сумма дублирующего платежа не совпадает с оригиналом!",  # Carbon
    Reason.REFUSED: "Прием платежа запрещен по техническим причинам",
    Reason.CANCEL_NOT_FOUND: "Платеж не найден",
    Reason.FORBIDDEN: "Доступ запрещен",
    Reason.UNAUTHORIZED: "Доступ запрещен",
    Reason.INTERNAL: "Внутренняя ошибка",
}
# The same transaction id paid to another account with the same sum (Carbon's text).
OSMP_MISMATCH_ACCOUNT = "Платеж уже создан"

# SberOnline <MESSAGE> for each <CODE> (the bank's table, as LANBilling's lbpay has it).
SBER_MESSAGES = {
    0: "Успешное завершение операции",
    1: "Временная ошибка. Повторите запрос позже",
    2: "Неизвестный тип запроса",
    3: "Абонент не найден",
    4: "Неверный формат идентификатора Плательщика",
    5: "Счет Плательщика не активен",
    6: "Неверное значение идентификатора транзакции",
    7: "Прием платежа запрещен по техническим причинам",
    8: "Дублирование транзакции",
    9: "Неверная сумма платежа",
    10: "Сумма слишком мала",
    11: "Сумма слишком велика",
    12: "Неверное значение даты",
    300: "Внутренняя ошибка Организации",
}


def short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def osmp_comment(reason: Reason, detail: str = "") -> str:
    return OSMP_COMMENTS[reason].format(short(detail))
