"""Russian wording for Django admin texts that put a model's name into a sentence.

Django's Russian catalogue inserts the name in the nominative ("Выберите абонент для
изменения", "Добавить абонент"), which is wrong for most nouns, and models carry no other
grammatical cases. Our catalogue (LOCALE_PATHS, read before Django's) gives these msgids a
form where the name stands alone after a colon ("Выберите для изменения: абонент"). They
are listed here so that ``make messages`` keeps them in our .po files; nothing calls this.
"""

from django.utils.translation import gettext_noop

DJANGO_ADMIN_MSGIDS = (
    gettext_noop("Select %s to change"),
    gettext_noop("Select %s to view"),
    gettext_noop("Select %s"),
    gettext_noop("Add %s"),
    gettext_noop("Change %s"),
    gettext_noop("View %s"),
    gettext_noop("Add %(name)s"),
    gettext_noop("Add another %(verbose_name)s"),
    gettext_noop("Select all %(total_count)s %(module_name)s"),
)
