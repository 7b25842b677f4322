"""argparse's own texts, put in our catalogue so that ``make messages`` keeps them.

Python ships no translation of argparse; cli_text.use_language() makes argparse look its
texts up in our catalogue instead, so that usage lines and errors come out in
app['language'] with the rest of the command line. The msgids are argparse's, byte for
byte (Python 3.11); a text a later Python changes is shown in English until added here.
Never imported: the strings only need to be found by makemessages.
"""

from asr_billing.core.cli_text import gettext_noop, ngettext

ARGPARSE_TEXTS = [
    gettext_noop("usage: "),
    gettext_noop("positional arguments"),
    gettext_noop("options"),
    gettext_noop("show this help message and exit"),
    gettext_noop("%(prog)s: error: %(message)s\n"),
    gettext_noop("argument %(argument_name)s: %(message)s"),
    gettext_noop("the following arguments are required: %s"),
    gettext_noop("one of the arguments %s is required"),
    gettext_noop("unrecognized arguments: %s"),
    gettext_noop("invalid choice: %(value)r (choose from %(choices)s)"),
    gettext_noop("invalid %(type)s value: %(value)r"),
    gettext_noop("expected one argument"),
    gettext_noop("expected at most one argument"),
    gettext_noop("expected at least one argument"),
    gettext_noop("ambiguous option: %(option)s could match %(matches)s"),
    gettext_noop("not allowed with argument %s"),
    gettext_noop("ignored explicit argument %r"),
    gettext_noop("unexpected option string: %s"),
]


def _plural_texts(count: int) -> str:
    # Only for makemessages: argparse's ngettext texts with their plural forms.
    return ngettext("expected %s argument", "expected %s arguments", count)
