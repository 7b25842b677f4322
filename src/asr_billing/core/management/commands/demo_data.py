"""``asr-billing demo``: the story demo, or ``--subscribers N`` bulk subscribers."""

from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Load the story demo (260 subscribers with history; nothing happens if it is there "
        "already), or with --subscribers N add N bulk subscribers for benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--subscribers", type=int, default=None,
            help="add N bulk subscribers (each run adds N more) instead of the story demo",
        )
        parser.add_argument(
            "--seed", type=int, default=None,
            help="random seed (default: the story demo's fixed one; for --subscribers, "
            "derived from the first new id)",
        )

    def handle(self, *args, subscribers=None, seed=None, **options):
        from asr_billing.demo.store import DemoConflict, create_story

        started = time.monotonic()
        if subscribers is not None and subscribers <= 0:
            raise CommandError("--subscribers must be a positive number")
        # The attribute kinds (INN, KPP, ...) and the root group the demo hangs on.
        call_command("seed_reference", verbosity=0)
        if subscribers is None:
            try:
                result = create_story() if seed is None else create_story(seed=seed)
            except DemoConflict as exc:
                raise CommandError(str(exc)) from None
            if not result.created:
                self.stdout.write("The story demo is already present (subscriber 1361); "
                                  "nothing changed.")
                return
            self.stdout.write(
                f"Story demo loaded: {result.subscribers} subscribers, {result.logins} logins "
                f"({result.online} online), {result.operations} operations "
                f"#{result.first_operation_id}-#{result.last_operation_id} "
                f"in {time.monotonic() - started:.1f} s."
            )
            return
        from asr_billing.demo.bulk import BulkError, create_bulk

        try:
            result = create_bulk(count=subscribers, seed=seed)
        except BulkError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Added {result.subscribers} subscribers (ids {result.first_id}-{result.last_id}, "
            f"contracts {result.first_contract}-{result.last_contract}) in group "
            f"«{result.group}», {result.logins} logins on NAS {result.nas_ip}, "
            f"{result.online} online, {result.negbal} negbal, {result.blocked} blocked, "
            f"{result.operations} operations in {time.monotonic() - started:.1f} s."
        )
