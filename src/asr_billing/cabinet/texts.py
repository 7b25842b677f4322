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

# Helpdesk (the product's catalogue, cabinet section; create_ticket answers them).
TICKET_CREATED = "Заявка создана."
COMMENT_CREATED = "Комментарий создан."
TICKET_TEXT_EMPTY = "Необходимо заполнить текст сообщения."
TICKET_CLOSED_NO_COMMENTS = "Нельзя писать комментарии к закрытой заявке."
TICKET_NOT_YOURS = "У вас нет прав на создание комментария к этой заявке."
TICKET_DEFAULT_SUBJECT = "Запрос из кабинета"
# Ticket states as get_helpdesk_dialogs' "__status" (the catalogue's helpdesk statuses).
# The Android cabinet highlights a ticket whose __status is exactly "Ожидает ответа".
TICKET_STATUS_OPEN = "Открыт"
TICKET_STATUS_ANSWERED = "Ожидает ответа"
TICKET_STATUS_CLOSED = "Закрыт"
# get_notifications_for_user's notices about the subscriber's own state (the catalogue's
# cabinet strings, in the order Carbon's cabinet module has them).
NOTICE_PROMISED = "Уважаемый(ая) {0}. Имеется подключенный обещанный платёж (Услуга: {1})."
NOTICE_VBLOCK_PLANNED = (
    "Уважаемый(ая) {0}. У вас имеется запланированная добровольная блокировка с {1}."
)
NOTICE_UNREAD_SUPPORT = (
    "Уважаемый(ая) {0}. Имеются непрочитанные сообщения от технической поддержки в заявках: {1}"
)
