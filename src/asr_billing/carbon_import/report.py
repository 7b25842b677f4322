"""What an import did, per kind, and what the operator still has to do; printed at the end."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

OUTCOMES = ("created", "updated", "unchanged", "skipped")
SHOWN = 20  # lines of a long list on the terminal; the rest is counted (and in a file)

EXTRA_KINDS = {"attribute_kinds": gettext_lazy("attribute kinds")}
# The money's rows in the table (carbon_import/money.py), after the structure's kinds.
MONEY = {
    "pay_operators": gettext_lazy("payment operators"),
    "operations": gettext_lazy("operations"),
    "states": gettext_lazy("promises and blocks"),
    "accounts": gettext_lazy("accounts"),
    "promised": gettext_lazy("promised payments"),
    "blocks": gettext_lazy("voluntary blocks"),
}
MONEY_ONES = {
    "operations": gettext_lazy("operation"),
    "states": gettext_lazy("subscriber"),
    "accounts": gettext_lazy("account"),
    "promised": gettext_lazy("promised payment of subscriber"),
    "blocks": gettext_lazy("voluntary block of subscriber"),
}


@dataclass
class Report:
    source: str = ""
    version: str = ""
    dry_run: bool = False
    only: frozenset | None = None  # the kinds imported (--only); None: all
    counts: dict = field(default_factory=lambda: defaultdict(lambda: dict.fromkeys(OUTCOMES, 0)))
    skipped: list = field(default_factory=list)  # (kind key, carbon id, reason)
    skipped_ids: dict = field(default_factory=lambda: defaultdict(set))
    missing: dict = field(default_factory=dict)  # kind key -> wire fields the source lacks
    logins_without_password: list = field(default_factory=list)  # the first SHOWN (id, login)
    logins_without_password_count: int = 0
    nas_without_secret: list = field(default_factory=list)  # (id, name, ip)
    password_file: str = ""
    corrections: list = field(default_factory=list)  # (account id, amount, opening?)
    seconds: float = 0.0
    requests: int = 0

    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        self.counts[kind][outcome] += n

    def skip(self, kind: str, pk, reason: str) -> None:
        self.counts[kind]["skipped"] += 1
        self.skipped.append((kind, pk, reason))
        self.skipped_ids[kind].add(pk)

    def was_skipped(self, kind: str, pk) -> bool:
        return pk in self.skipped_ids[kind]

    @property
    def any_skipped(self) -> bool:
        return bool(self.skipped)

    def _corrections(self) -> list[str]:
        openings = [(pk, amount) for pk, amount, opening in self.corrections if opening]
        later = [(pk, amount) for pk, amount, opening in self.corrections if not opening]
        out = []
        if openings:
            total = sum((amount for _pk, amount in openings), Decimal("0.00"))
            out.append("")
            out.append(ngettext(
                "Opening balance posted for %(n)d account (its history at the source does "
                "not sum to its balance), total %(total)s.",
                "Opening balances posted for %(n)d accounts (their history at the source "
                "does not sum to their balance), total %(total)s.", len(openings))
                % {"n": len(openings), "total": total})
        if later:
            out.append("")
            out.append(ngettext(
                "%(n)d account already had its opening balance and differed again from the "
                "source's balance (changed at the source without an operation we could "
                "read): a balance adjustment was posted:",
                "%(n)d accounts already had their opening balance and differed again from "
                "the source's balance (changed at the source without an operation we could "
                "read): a balance adjustment was posted to each:", len(later))
                % {"n": len(later)})
            out += [f"  {pk}: {amount:+}" for pk, amount in later[:SHOWN]]
            if len(later) > SHOWN:
                out.append("  " + _("… and %(n)d more") % {"n": len(later) - SHOWN})
        return out

    def lines(self, kinds) -> list[str]:
        labels = {k.key: k.label for k in kinds} | EXTRA_KINDS | MONEY
        ones = {k.key: k.one for k in kinds} | MONEY_ONES
        out = [_("Source: %(url)s, version %(version)s; %(n)d requests, %(s).1f s.")
               % {"url": self.source, "version": self.version, "n": self.requests,
                  "s": self.seconds}]
        heads = [_("created"), _("updated"), _("unchanged"), _("skipped")]
        width = max(len(str(label)) for label in labels.values()) + 2
        out.append(" " * width + "".join(f"{h:>11}" for h in heads))
        order = [k.key for k in kinds if self.only is None or k.key in self.only]
        if "attributes" in order:
            order.insert(order.index("attributes"), "attribute_kinds")
        order += list(MONEY)
        for key in order:
            if key not in self.counts and key in ("attribute_kinds", *MONEY):
                continue
            row = self.counts[key]
            out.append(f"{labels[key]!s:<{width}}"
                       + "".join(f"{row[o]:>11}" for o in OUTCOMES))
        if self.skipped:
            out.append("")
            out.append(ngettext("Skipped %(n)d object:", "Skipped %(n)d objects:",
                                len(self.skipped)) % {"n": len(self.skipped)})
            out += [f"  {ones.get(kind, kind)} {pk}: {reason}"
                    for kind, pk, reason in self.skipped]
        for key, names in self.missing.items():
            out.append("")
            out.append(_("%(kind)s: the source has no %(fields)s; our defaults are kept for "
                         "them.") % {"kind": str(labels[key]).capitalize(),
                                     "fields": ", ".join(names)})
        out += self._corrections()
        if self.nas_without_secret:
            out.append("")
            out.append(ngettext(
                "%(n)d NAS needs its RADIUS secret (the source does not give it): set it on "
                "its page in the admin (NAS devices), field RADIUS secret:",
                "%(n)d NAS need their RADIUS secret (the source does not give it): set it on "
                "each one's page in the admin (NAS devices), field RADIUS secret:",
                len(self.nas_without_secret)) % {"n": len(self.nas_without_secret)})
            out += [f"  {pk} {name} ({ip})" for pk, name, ip in self.nas_without_secret]
        if self.logins_without_password:
            total = max(self.logins_without_password_count, len(self.logins_without_password))
            out.append("")
            out.append(ngettext(
                "%(n)d login has no password (the source does not give them): set one in the "
                "admin or through REST v2 Users set_password:",
                "%(n)d logins have no password (the source does not give them): set one in "
                "the admin or through REST v2 Users set_password:", total) % {"n": total})
            out += [f"  {pk} {login}" for pk, login in self.logins_without_password[:SHOWN]]
            if total > SHOWN:
                out.append("  " + _("… and %(n)d more") % {"n": total - SHOWN})
            if self.password_file:
                out.append("  " + _("The whole list: %(file)s") % {"file": self.password_file})
        out.append("")
        if self.dry_run:
            out.append(_("Dry run: nothing was written."))
        elif self.skipped:
            out.append(_("Imported, except the skipped objects above; running the import "
                         "again after fixing them imports them and changes nothing else."))
        else:
            out.append(_("Imported."))
        return out
