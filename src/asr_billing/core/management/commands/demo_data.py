"""``asr-billing demo``: the story demo, or ``--subscribers N`` bulk subscribers."""

from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


class Command(BaseCommand):
    @property
    def help(self):
        return _("Load the story demo (260 subscribers with history; nothing happens if it is "
                 "there already), or with --subscribers N add N bulk subscribers for "
                 "benchmarks.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--subscribers", type=int, default=None,
            help=_("add N bulk subscribers (each run adds N more) instead of the story demo"),
        )
        parser.add_argument(
            "--seed", type=int, default=None,
            help=_("random seed (default: the story demo's fixed one; for --subscribers, "
                   "derived from the first new id)"),
        )

    def handle(self, *args, subscribers=None, seed=None, **options):
        from asr_billing.demo.store import DemoConflict, create_story

        started = time.monotonic()
        if subscribers is not None and subscribers <= 0:
            raise CommandError(_("--subscribers must be a positive number"))
        # The attribute kinds (INN, KPP, ...) and the root group the demo hangs on.
        call_command("seed_reference", verbosity=0)
        if subscribers is None:
            try:
                result = create_story() if seed is None else create_story(seed=seed)
            except DemoConflict as exc:
                raise CommandError(str(exc)) from None
            if not result.created:
                self.stdout.write(_("The story demo is already present (subscriber 1361); "
                                    "nothing changed."))
                return
            # Counted words as "label: number" in translations: several counts, one line.
            self.stdout.write(
                _("Story demo loaded: %(subscribers)s subscribers, %(logins)s logins "
                  "(%(online)s online), %(operations)s operations #%(first)s-#%(last)s "
                  "in %(seconds).1f s.")
                % {"subscribers": result.subscribers, "logins": result.logins,
                   "online": result.online, "operations": result.operations,
                   "first": result.first_operation_id, "last": result.last_operation_id,
                   "seconds": time.monotonic() - started}
            )
            return
        from asr_billing.demo.bulk import BulkError, create_bulk

        try:
            result = create_bulk(count=subscribers, seed=seed)
        except BulkError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            _("Added %(subscribers)s subscribers (ids %(first_id)s-%(last_id)s, contracts "
              "%(first_contract)s-%(last_contract)s) in group «%(group)s», %(logins)s logins "
              "on NAS %(nas)s, %(online)s online, %(negbal)s negbal, %(blocked)s blocked, "
              "%(operations)s operations in %(seconds).1f s.")
            % {"subscribers": result.subscribers, "first_id": result.first_id,
               "last_id": result.last_id, "first_contract": result.first_contract,
               "last_contract": result.last_contract, "group": result.group,
               "logins": result.logins, "nas": result.nas_ip, "online": result.online,
               "negbal": result.negbal, "blocked": result.blocked,
               "operations": result.operations, "seconds": time.monotonic() - started}
        )
