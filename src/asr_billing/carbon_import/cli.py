"""``asr-billing import carbon``: its arguments, and the run that prints the report.

No Django imports at module level: the command line parses arguments before Django starts.
Exit codes: 0 everything imported, 1 some objects were skipped (listed with reasons),
2 the source could not be read (one line; nothing written when it fails at the start).
"""

from __future__ import annotations

import os
import sys

from asr_billing.core.cli_text import gettext as _

KEY_ENV = "ASR_BILLING_CARBON_KEY"
# The kinds ``--only`` takes, in the order they are imported: the report's rows in English
# (importer.py checks they are the kinds' keys). "attributes" brings the attribute kinds
# they name, "operations" the payment operators, "accounts" the promised payments,
# voluntary blocks, credit limits, balances and the cut-off state.
ONLY_KINDS = ("groups", "tariffs", "services", "nas", "subscribers", "attributes", "logins",
              "subscriptions", "operations", "accounts")


def only_kinds(value: str) -> frozenset[str]:
    """argparse type of ``--only``: comma-separated kinds, any case; an unknown one is an
    error naming the valid kinds (argparse exits 2 before anything is opened)."""
    import argparse

    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    wrong = [name for name in names if name not in ONLY_KINDS]
    if wrong or not names:
        raise argparse.ArgumentTypeError(
            _("unknown kind %(wrong)s; the kinds are: %(kinds)s")
            % {"wrong": ", ".join(repr(n) for n in wrong) or repr(value),
               "kinds": ", ".join(ONLY_KINDS)})
    return frozenset(names)


def add_import_parser(sub, common) -> None:
    p = sub.add_parser("import", parents=[common],
                       help=_("import another billing's data (docs/migration.md)"))
    isub = p.add_subparsers(dest="import_command", required=True, metavar="SOURCE")
    c = isub.add_parser(
        "carbon", parents=[common],
        help=_("read a running Carbon Billing 5 through its API REST v2.0 and create or "
               "update the same groups, tariffs, services, NAS, subscribers, attributes, "
               "logins and subscriptions here, with the same ids, then the money: the "
               "finance history with the same ids, balances (an opening balance where the "
               "history does not sum to them), credit limits, promised payments and "
               "voluntary blocks in force; exit 0 all imported, 1 some skipped, 2 the "
               "source cannot be read"))
    c.add_argument("--url", required=True,
                   help=_("the source's REST API, e.g. http://10.0.0.2:8082"))
    c.add_argument("--key", default=None,
                   help=_("the source's API key (default: $%(env)s; none)") % {"env": KEY_ENV})
    c.add_argument("--dry-run", action="store_true",
                   help=_("read and check everything, print the report, write nothing"))
    c.add_argument("--only", type=only_kinds, default=None, metavar="KIND[,KIND...]",
                   help=_("import only these kinds (%(kinds)s); the others are neither read "
                          "nor written, and an object whose reference is not here is "
                          "skipped with that reason") % {"kinds": ", ".join(ONLY_KINDS)})


def run_import(args, home) -> int:
    from django.utils.translation import gettext

    from asr_billing.carbon_import.client import CarbonClient, CarbonError
    from asr_billing.carbon_import.importer import carbon_import
    from asr_billing.carbon_import.kinds import KINDS

    key = args.key if args.key is not None else os.environ.get(KEY_ENV, "")
    try:
        client = CarbonClient(args.url, key)
        report = carbon_import(client=client, dry_run=args.dry_run, out_dir=home.var_dir,
                               only=args.only)
    except CarbonError as exc:
        print(gettext("error: %(message)s") % {"message": exc}, file=sys.stderr)
        return 2
    print("\n".join(report.lines(KINDS)))
    return 1 if report.any_skipped else 0
