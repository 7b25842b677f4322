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


def run_import(args, home) -> int:
    from django.utils.translation import gettext

    from asr_billing.carbon_import.client import CarbonClient, CarbonError
    from asr_billing.carbon_import.importer import carbon_import
    from asr_billing.carbon_import.kinds import KINDS

    key = args.key if args.key is not None else os.environ.get(KEY_ENV, "")
    try:
        client = CarbonClient(args.url, key)
        report = carbon_import(client=client, dry_run=args.dry_run, out_dir=home.var_dir)
    except CarbonError as exc:
        print(gettext("error: %(message)s") % {"message": exc}, file=sys.stderr)
        return 2
    print("\n".join(report.lines(KINDS)))
    return 1 if report.any_skipped else 0
