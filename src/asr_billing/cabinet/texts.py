"""Carbon's own cabinet messages that clients show or compare: byte-exact Russian
constants, not translated (reference carbon-api.md §4.2: the Go cabinet compares
``Необходимо авторизоваться`` exactly; the rest are the product's catalogue strings).
Our own messages go through gettext where they are raised."""

from __future__ import annotations

NOT_AUTHORIZED = "Необходимо авторизоваться"
WRONG_LOGIN = "Неверный логин или пароль"
AUTO_IP_INVALID = "Не задан ip, либо имеет неверный формат: %s"
AUTO_LOGIN_FAILED = "Не удалось автоматически авторизоваться"
PASSWORD_RULE = "Пароль должен быть без пробелов и короче 16 символов"  # noqa: S105
SMS_INVALID = "Введен некорректный номер для оповещений"
SAVED = "Сохранено"
SERVICE_CONNECTED = "Услуга {0} подключена"
PAYMENT_SUM_INVALID = "Неверно введена сумма платежа"
PAYMENT_SUM_ZERO = "Сумма платежа не должна быть нулевой"
