"""Carbon's own cabinet messages for promised payments and voluntary blocks.

Cabinet clients (web_cabinet.* callers: the Android app, the Laravel and Go cabinets)
show these strings and some compare them, so they stay byte-exact Russian constants and
are not translated (shared/reference/carbon-api.md §4.2, "cabinet feature set"). The
``%s`` placeholders are filled with ``%`` exactly as Carbon's catalogue does. Our own
messages go through gettext in the services.
"""

from __future__ import annotations

PROMISED_ONLY_TO_UNBLOCK = "Обещанный платеж доступен только для разблокировки"
PROMISED_ALREADY_ACTIVE = "Обещанный платеж уже подключен"
PROMISED_MONTH_LIMIT = "Обещанный платеж уже был подключен в этом месяце %s раз"
PROMISED_NOT_AVAILABLE = "Обещанный платеж нельзя подключить"

VBLOCK_IN_PAST = "Невозможно взять добровольную блокировку в прошлом"
VBLOCK_TOO_LONG = "Превышено максимально возможное количество дней блокировки: %s"
VBLOCK_TOO_SHORT = "Ошибка. Минимальное возможное количество дней блокировки: %s"
VBLOCK_NO_FUNDS = (
    "Недостаточно средств на счете для добровольной блокировки. "
    "Стоимость добровольной блокировки: %s"
)
VBLOCK_ALREADY = "Вы уже заблокированы. Повторная блокировка запрещена."
VBLOCK_MONTH_LIMIT = "Превышено максимальное количество блокировок в текущем месяце."
VBLOCK_LIFTED = "Добровольная блокировка успешно снята"
