"""``asr-billing payments reconcile``: its arguments and the call of the management
command that does the work (payments_reconcile). No Django imports at module level: the
CLI parses arguments before Django starts."""

from __future__ import annotations

from asr_billing.core.cli_text import gettext as _

FORMATS = ("sberbank", "csv")  # finance.reconcile_registry.FORMATS


def add_reconcile_parser(actions, common) -> None:
    p = actions.add_parser(
        "reconcile", parents=[common],
        help=_("compare a daily registry with the billing; exit 0 all match, 3 differs, "
               "2 refused"),
    )
    p.add_argument("--gateway", required=True,
                   help=_("the gateway instance, <type>.<name> (e.g. sberbank.demo)"))
    p.add_argument("--file", required=True, help=_("the registry file"))
    p.add_argument("--format", choices=FORMATS,
                   help=_("registry layout (default: the gateway's registry.format)"))
    p.add_argument("--date", help=_("the registry's day, YYYY-MM-DD (default: the days of its "
                                    "payments; needed when it lists none)"))
    p.add_argument("--post-missing", action="store_true",
                   help=_("post the registry's payments the billing does not have (once)"))


def run_reconcile(args) -> int:
    from django.core.management import call_command

    options = {"gateway": args.gateway, "file": args.file, "post_missing": args.post_missing}
    if args.format:
        options["format"] = args.format
    if args.date:
        options["date"] = args.date
    call_command("payments_reconcile", **options)
    return 0
