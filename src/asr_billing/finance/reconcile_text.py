"""A stored reconciliation report as text lines (``asr-billing payments reconcile``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from asr_billing.core.money import fmt
from asr_billing.finance.models_reconcile import Category, Reconciliation

# The command's exit codes (docs/payments.md, "Reconciliation").
EXIT_MATCH = 0  # every payment matches (after posting, with --post-missing)
EXIT_REFUSED = 2  # nothing stored: a malformed registry, an unknown gateway, a bad option
EXIT_DIFFERS = 3  # the report is stored and some lines differ


def _money(value) -> str:
    return fmt(value) if value is not None else "—"


def report_text(report: Reconciliation) -> list[str]:
    """The summary, then every line that is not a plain match."""
    if report.date_from == report.date_to:
        days = str(report.date_from)
    else:
        days = f"{report.date_from}..{report.date_to}"
    fee = (
        _(" (fees %(fee)s)") % {"fee": fmt(report.registry_fee)}
        if report.registry_fee is not None else ""
    )
    out = [
        _("Reconciliation #%(id)s of %(gateway)s (operator %(operator)s), registry of %(days)s")
        % {"id": report.pk, "gateway": report.gateway, "operator": report.operator.code,
           "days": days},
        _("File %(name)s, SHA-256 %(sha)s") % {"name": report.file_name,
                                               "sha": report.file_sha256},
        _("Registry: count %(count)s, total %(amount)s%(fee)s; billing: count %(bcount)s, "
          "total %(bamount)s")
        % {"count": report.registry_count, "amount": fmt(report.registry_amount), "fee": fee,
           "bcount": report.billing_count, "bamount": fmt(report.billing_amount)},
    ]
    counts = [
        (Category.MATCHED, report.matched_count),
        (Category.MISSING_IN_BILLING, report.missing_in_billing_count),
        (Category.MISSING_IN_REGISTRY, report.missing_in_registry_count),
        (Category.MISMATCHED, report.mismatched_count),
        (Category.REVERSED, report.reversed_count),
    ]
    for category, count in counts:
        out.append(f"  {category.label!s:<28} {count:>6}")
    if report.post_missing:
        out.append(
            _("  posted: count %(count)s, total %(amount)s")
            % {"count": report.posted_count, "amount": fmt(report.posted_amount)}
        )
    lines = report.lines.exclude(category=Category.MATCHED).order_by("id")
    if lines:
        out.append(_("Lines that are not plain matches:"))
    for line in lines:
        where = (
            _("line %(n)s") % {"n": line.line_no} if line.line_no is not None
            else _("not in the registry")
        )
        state = _("agrees") if line.resolved else _("DIFFERS")
        out.append(
            f"  {state} {where}: {line.get_category_display()}; "
            + _("transaction %(txn)s, account %(account)s, registry %(registry)s, "
                "billing %(billing)s%(contract)s")
            % {"txn": line.txn_id or "—", "account": line.account or "—",
               "registry": _money(line.registry_amount), "billing": _money(line.billing_amount),
               "contract": (_(" (contract %(c)s)") % {"c": line.contract_number}
                            if line.contract_number else "")}
            + (f"; {line.message}" if line.message else "")
        )
    if report.differs:
        count = report.unresolved_count
        out.append(ngettext("Result: %(count)s line differs", "Result: %(count)s lines differ",
                            count) % {"count": count})
    else:
        out.append(_("Result: everything matches"))
    return out
