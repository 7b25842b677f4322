"""The command line's own texts, in the language of app['language'].

The services' messages follow app['language'] through Django (settings.LANGUAGE_CODE);
the command line's texts must too, or one line would mix two languages
("error: Идёт запуск тарификации…"). But part of the command line runs before Django
starts, or instead of it: ``init``, ``config``, ``serve``'s checks, ``backup``/``restore``,
argparse's usage and errors, the reading of a cfg/config that may be broken. Those texts
are translated here, from the same catalogue (locale/*/LC_MESSAGES/django.mo, so
``make messages`` finds them like any other ``_()``), in the language the home's
cfg/config names — read leniently, since a config file with an error elsewhere still
says which language its operator reads.

Once Django is ready, the texts go through Django's gettext, so code shared by the
server and the command line (the config file's checks) speaks the language of the
request or command at hand. This module must not import Django at import time.
"""

from __future__ import annotations

import argparse
import gettext as python_gettext
import os
import re
import sys
from functools import cache
from pathlib import Path

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"  # app['language']'s default (config_schema.py)
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
HOME_ENV = "ASR_BILLING_HOME"

# app['language']='en' / "en" / en, as a line of cfg/config; the last one wins, as in bash.
LANGUAGE_LINE_RE = re.compile(
    r"""^\s*app\[['"]language['"]\]=(['"]?)(?P<language>[a-z]{2})\1\s*(#.*)?$""", re.MULTILINE)

_language: str | None = None  # None: not chosen yet (that of $ASR_BILLING_HOME, or ru)


def language_of(config_file: str | Path) -> str:
    """The app['language'] a cfg/config file names; the default when it names none (or
    cannot be read: its errors are reported by the code that reads it properly)."""
    try:
        text = Path(config_file).read_bytes().decode("utf-8", "replace")
    except OSError:
        return DEFAULT_LANGUAGE
    found = [m["language"] for m in LANGUAGE_LINE_RE.finditer(text)]
    return found[-1] if found and found[-1] in LANGUAGES else DEFAULT_LANGUAGE


def use_language(language: str) -> None:
    """Speak ``language`` from now on in this process (the command line chooses it from
    the home before anything is printed); argparse's own texts included."""
    global _language
    _language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    # argparse looks these up in its module at each call: its usage lines, "error:",
    # "the following arguments are required" come out in the same language
    # (their msgids are in core/cli_words.py).
    argparse._ = gettext
    argparse.ngettext = ngettext


def current_language() -> str:
    if _language is None:
        home = os.environ.get(HOME_ENV)
        return language_of(Path(home) / "cfg" / "config") if home else DEFAULT_LANGUAGE
    return _language


@cache
def _catalogue(language: str) -> python_gettext.NullTranslations:
    return python_gettext.translation("django", LOCALE_DIR, languages=[language],
                                      fallback=True)


def _django_ready() -> bool:
    apps = sys.modules.get("django.apps")
    return apps is not None and apps.apps.ready


def gettext(message: str) -> str:
    if _django_ready():
        from django.utils.translation import gettext as django_gettext

        return django_gettext(message)
    return _catalogue(current_language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    if _django_ready():
        from django.utils.translation import ngettext as django_ngettext

        return django_ngettext(singular, plural, count)
    return _catalogue(current_language()).ngettext(singular, plural, count)


def gettext_noop(message: str) -> str:
    """Marks a text for the catalogue; translated where it is shown."""
    return message


_ = gettext
