"""``asr-billing import carbon``: the structure of an ISP read from a running Carbon's API
REST v2.0 (client.py) and created or updated here with Carbon's ids (services.py), kind
after kind in dependency order (kinds.py): groups, tariffs, services, NAS, subscribers,
attributes, logins, subscriptions; then the money (money.py): payment operators, the
finance history, promised payments and voluntary blocks in force, accounts (credit
limits, balances made equal to the source's by an opening balance where the history is
trimmed) and the cut-off state.

Before anything is written the source is checked: its version (the wire, the key) and,
for each kind, which of the fields we ask for it has (a real Carbon names some of them
differently or not at all; those keep our defaults and the report says so). A source that
cannot be read stops the import there, with one line.

Each page of 500 objects is read, converted and written in one transaction, each object in
a savepoint; a second run finds every row by its id and updates only what changed.
``dry_run`` runs the same code in one transaction that is rolled back at the end.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from asr_billing.carbon_import.balances import (
    Openings,
    accounts_page,
    cut_off_refresh,
    dry_run_next_id,
    states_page,
)
from asr_billing.carbon_import.cli import ONLY_KINDS
from asr_billing.carbon_import.client import DEFAULT_PAGE, CarbonClient, CarbonError
from asr_billing.carbon_import.kinds import KINDS, Kind
from asr_billing.carbon_import.ledger import operations_page
from asr_billing.carbon_import.money import ACCOUNTS, MONEY_KINDS, OPERATIONS, STATES
from asr_billing.carbon_import.report import Report
from asr_billing.carbon_import.services import (
    attribute_kinds_ensure,
    import_page,
    sequences_reset,
)
from asr_billing.core.errors import InvalidInput

# Which ``--only`` kind reads each pass of the money.
_MONEY_PART = {OPERATIONS.key: "operations", STATES.key: "accounts", ACCOUNTS.key: "accounts"}
assert {k.key for k in KINDS} | {"operations", "accounts"} == set(ONLY_KINDS)

NO_PASSWORD_LIST = "carbon-import-logins-without-password.txt"  # noqa: S105 - a file name


def _probe(client: CarbonClient, kind: Kind, fields: list[str]) -> bool:
    try:
        client.call(kind.wire, ("objects.filter", kind.lookup), ("order_by", ["id"]),
                    fields=fields, limit=1)
    except CarbonError:
        return False
    return True


def fields_of(client: CarbonClient, kind: Kind, report: Report) -> list[str]:
    """The wire fields to ask ``kind`` for: all of ours when the source has them (one
    call), else the required ones (a CarbonError when it lacks one) and each optional one
    it has."""
    wanted = [*kind.required, *kind.optional]
    if _probe(client, kind, wanted):
        return wanted
    for name in kind.required:  # raises the source's own words when it lacks one
        client.call(kind.wire, ("objects.filter", kind.lookup), fields=[name], limit=1)
    have = [name for name in kind.optional if _probe(client, kind, [name])]
    report.missing[kind.key] = [name for name in kind.optional if name not in have]
    return [*kind.required, *have]


def _convert(kind: Kind, page: list[dict], report: Report) -> list[tuple[int, dict]]:
    rows = []
    for item in page:
        pk = item.get("pk")
        try:
            rows.append((int(pk), kind.convert(item.get("fields") or {})))
        except InvalidInput as exc:
            report.skip(kind.key, pk, str(exc))
        except (TypeError, ValueError):
            report.skip(kind.key, pk, _("the source sent an id that is not a number"))
    return rows


def _groups_in_order(rows: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """Parents before their children, whatever the ids (a group moved under a newer one);
    a cycle's groups come last, where their missing parent skips them."""
    by_id = dict(rows)
    done: set[int] = set()
    ordered: list[tuple[int, dict]] = []

    def depth_first(pk: int, path: set[int]) -> None:
        if pk in done or pk in path or pk not in by_id:
            return
        parent = by_id[pk].get("parent_id")
        if parent is not None:
            depth_first(parent, path | {pk})
        done.add(pk)
        ordered.append((pk, by_id[pk]))

    for pk, _fields in rows:
        depth_first(pk, set())
    ordered += [(pk, f) for pk, f in rows if pk not in done]
    return ordered


class _Quiet:
    def total(self, kind: Kind, n: int | None) -> None:
        pass

    def advance(self, kind: Kind, n: int) -> None:
        pass


def progress_enabled() -> bool:
    """A bar for a person watching: stderr is a terminal and not under CI."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    return sys.stderr.isatty()


@contextmanager
def _progress(enabled: bool):
    if not enabled:
        yield _Quiet()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=False) as bar:
        tasks: dict[str, int] = {}

        class _Bar:
            def total(self, kind: Kind, n: int | None) -> None:
                tasks[kind.key] = bar.add_task(str(kind.label), total=n)

            def advance(self, kind: Kind, n: int) -> None:
                bar.advance(tasks[kind.key], n)

        yield _Bar()


def _count(client: CarbonClient, kind: Kind) -> int | None:
    try:
        return int(client.call(kind.wire, ("objects.filter", kind.lookup), ("count", {})))
    except (CarbonError, TypeError, ValueError):
        return None


def _import_kind(client, kind: Kind, fields: list[str], report: Report, bar,
                 page_size: int) -> None:
    from asr_billing.tariffs.models import Tariff

    pages = client.pages(kind.wire, kind.lookup, fields=fields, page_size=page_size)
    if kind.key == "groups":  # few; read whole to put parents first
        rows = [row for page in pages for row in _convert(kind, page, report)]
        rows = _groups_in_order(rows)
        pages = (rows[i:i + page_size] for i in range(0, len(rows), page_size))
        converted = True
    else:
        converted = False
    thresholds = None
    if kind.key == "subscribers":
        thresholds = dict(Tariff.objects.values_list("pk", "disconnect_threshold"))
    for page in pages:
        rows = page if converted else _convert(kind, page, report)
        with transaction.atomic():
            if kind.key == "attributes":
                names = {}
                for item in page:
                    data = item.get("fields") or {}
                    names.setdefault(data.get("attribute_id"), data.get("attribute_name"))
                wanted = {pk: names.get(pk) for pk in {f["attribute_id"] for _p, f in rows}}
                attribute_kinds_ensure(kinds=wanted, report=report)
            import_page(kind=kind, rows=rows, report=report, thresholds=thresholds)
        bar.advance(kind, len(page))


def _import_money(client, fields: dict, report: Report, bar, page_size: int,
                  dry_run: bool) -> None:
    """The finance history, then the promises and blocks in force, then the accounts
    (money.py); the history's ids are Carbon's, so the sequence is reset before the
    opening balances take theirs from it."""
    from asr_billing.finance.models import Operation, PaymentOperator

    if OPERATIONS.key in fields:
        for page in client.pages(OPERATIONS.wire, OPERATIONS.lookup,
                                 fields=fields[OPERATIONS.key], page_size=page_size):
            rows = _convert(OPERATIONS, page, report)
            with transaction.atomic():
                operations_page(rows=rows, report=report)
            bar.advance(OPERATIONS, len(page))
        if not dry_run:
            sequences_reset([Operation, PaymentOperator])
        if ACCOUNTS.key not in fields:
            cut_off_refresh()  # the accounts step below would set the flags
    if ACCOUNTS.key not in fields:
        return
    states: dict = {}
    if fields[STATES.key]:  # a source without them: nothing in force is brought over
        for page in client.pages(STATES.wire, STATES.lookup, fields=fields[STATES.key],
                                 page_size=page_size):
            states_page(rows=_convert(STATES, page, report), states=states)
            bar.advance(STATES, len(page))
    openings = Openings(next_id=dry_run_next_id() if dry_run else None)
    for page in client.pages(ACCOUNTS.wire, ACCOUNTS.lookup, fields=fields[ACCOUNTS.key],
                             page_size=page_size):
        rows = _convert(ACCOUNTS, page, report)
        with transaction.atomic():
            accounts_page(rows=rows, states=states, report=report, openings=openings)
        bar.advance(ACCOUNTS, len(page))
    report.corrections = openings.posted


def _to_do(report: Report, out_dir: Path | None) -> None:
    """What the source cannot give: RADIUS secrets of NAS, passwords of logins. The logins
    are streamed to the file (a million of them stay out of memory); the report keeps
    the first few and the count."""
    from asr_billing.carbon_import.report import SHOWN
    from asr_billing.network.models import Login, Nas

    report.nas_without_secret = list(
        Nas.objects.filter(radius_secret_enc="").order_by("pk").values_list("pk", "name", "ip"))
    logins = Login.objects.filter(password_enc="").order_by("pk").values_list("pk", "login")
    report.logins_without_password = list(logins[:SHOWN])
    if not report.logins_without_password:
        return
    if out_dir is None or report.dry_run:
        report.logins_without_password_count = logins.count()
        return
    path = out_dir / NO_PASSWORD_LIST
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for pk, login in logins.iterator(chunk_size=5000):
            out.write(f"{pk}\t{login}\n")
            count += 1
    report.logins_without_password_count = count
    report.password_file = str(path)


def carbon_import(*, client: CarbonClient, dry_run: bool = False, out_dir: Path | None = None,
                  progress: bool | None = None, page_size: int = DEFAULT_PAGE,
                  only: frozenset[str] | None = None) -> Report:
    """Read the source through ``client`` and import it; returns the report; ``only``:
    the kinds to import (cli.ONLY_KINDS; None: all of them). A
    CarbonError before the first write leaves the database as it was; one in the middle
    (the source went away) leaves the pages written so far, and a second run goes on."""
    started = time.monotonic()
    wanted = ONLY_KINDS if only is None else only
    report = Report(source=client.base, dry_run=dry_run, only=only)
    report.version = client.version()
    kinds = [kind for kind in KINDS if kind.key in wanted]
    plan = [(kind, fields_of(client, kind, report)) for kind in kinds]
    money_kinds = [kind for kind in MONEY_KINDS
                   if _MONEY_PART[kind.key] in wanted]
    money = {kind.key: fields_of(client, kind, report) for kind in money_kinds}
    enabled = progress_enabled() if progress is None else progress
    with _progress(enabled) as bar:
        if enabled:
            for kind in kinds + money_kinds:
                bar.total(kind, _count(client, kind))
        with transaction.atomic() if dry_run else _nothing():
            for kind, fields in plan:
                _import_kind(client, kind, fields, report, bar, page_size)
            _import_money(client, money, report, bar, page_size, dry_run)
            if not dry_run:
                sequences_reset(kind.model for kind in kinds)
            _to_do(report, out_dir)
            if dry_run:
                transaction.set_rollback(True)
    report.requests = client.calls
    report.seconds = time.monotonic() - started
    return report


@contextmanager
def _nothing():
    yield
