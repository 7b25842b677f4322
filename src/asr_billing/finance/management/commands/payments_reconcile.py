"""``asr-billing payments reconcile --gateway NAME --file REGISTRY``: compare a payment
system's daily registry with the ledger (finance/reconcile.py), print and store the
report. Exit codes (reconcile_text): 0 everything matches, 3 something differs (the
report is stored), 2 refused (nothing stored, nothing posted)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from asr_billing.core.errors import ApplicationError
from asr_billing.finance.reconcile import registry_reconcile
from asr_billing.finance.reconcile_config import registry_source
from asr_billing.finance.reconcile_registry import FORMATS
from asr_billing.finance.reconcile_text import EXIT_DIFFERS, EXIT_REFUSED, report_text


def _refuse(message: str) -> CommandError:
    return CommandError(message, returncode=EXIT_REFUSED)


class Command(BaseCommand):
    @property
    def help(self):
        return _("Reconcile a payment system's daily registry with the billing "
                 "(docs/payments.md).")

    def add_arguments(self, parser):
        parser.add_argument("--gateway", required=True,
                            help=_("the gateway instance, <type>.<name> (e.g. sberbank.demo)"))
        parser.add_argument("--file", required=True, help=_("the registry file"))
        parser.add_argument("--format", choices=FORMATS,
                            help=_("registry layout (default: the gateway's registry.format)"))
        parser.add_argument("--date", help=_("the registry's day, YYYY-MM-DD (default: the "
                                             "days of its payments; needed when it lists none)"))
        parser.add_argument("--post-missing", action="store_true",
                            help=_("post the registry's payments the billing does not have "
                                   "(once)"))

    def handle(self, *args, **options):
        day = None
        if options.get("date"):
            try:
                day = date.fromisoformat(options["date"])
            except ValueError:
                raise _refuse(_("--date %(value)s is not a date YYYY-MM-DD")
                              % {"value": repr(options["date"])}) from None
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _refuse(_("cannot read %(path)s: %(reason)s")
                          % {"path": path, "reason": exc.strerror or exc}) from None
        try:
            report = registry_reconcile(
                source=registry_source(options["gateway"]),
                data=data,
                file_name=path.name,
                actor="cli",
                post_missing=options["post_missing"],
                fmt=options.get("format"),
                day=day,
            )
        except ApplicationError as exc:
            raise _refuse(f"{path.name}: {exc.message}") from None
        for line in report_text(report):
            self.stdout.write(line)
        if report.differs:
            raise CommandError(
                _("the registry and the billing differ (lines: %(count)s, report #%(id)s)")
                % {"count": report.unresolved_count, "id": report.pk},
                returncode=EXIT_DIFFERS,
            )
