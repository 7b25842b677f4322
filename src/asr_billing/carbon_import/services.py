"""The import's writes: a page of source objects of one kind created or updated here with
Carbon's ids, each in a savepoint of its own, each change audited.

A page costs a fixed number of reads whatever its size: the rows already here with the
page's ids (one query), the rows each reference points at (one query per reference),
the holders of each unique value (one query per rule). Every object is checked against
them and the model's field rules before anything is written; the page's new rows then go
in with one bulk insert (its subscribers' accounts with another), updates one by one.
Should the database still refuse the page, it is written again object by object, each
in a savepoint, so the object that breaks a rule here is skipped whole (a subscriber
with its account, a login) and the rest of the page goes on. The audit entries of a page
are written together at its end, in the page's transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from asr_billing.carbon_import.kinds import BY_KEY, Kind
from asr_billing.carbon_import.report import Report
from asr_billing.core.audit import actor_fields
from asr_billing.core.errors import InvalidInput
from asr_billing.core.models import AuditEntry
from asr_billing.core.money import ZERO
from asr_billing.finance.state import is_negbal, subscriber_state_refresh
from asr_billing.subscribers.models import Attribute

ACTOR = "carbon_import"


def _json(value):
    if isinstance(value, (Decimal, date, datetime)):
        return str(value)
    return value


def _validation_text(kind: Kind, exc: ValidationError) -> str:
    texts = []
    for name, messages in exc.message_dict.items():
        label = ""
        if name != "__all__":
            label = str(kind.model._meta.get_field(name).verbose_name)
        texts += [f"{label}: {m}" if label else str(m) for m in messages]
    return "; ".join(texts)


def _check(kind: Kind, obj, fks: list[str]) -> None:
    """The model's field rules (lengths, choices, e-mail, decimal places, ranges) without
    a query: foreign keys are checked by the page's reference sets, constraints by the
    database."""
    try:
        obj.full_clean(exclude=fks, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise InvalidInput(_validation_text(kind, exc)) from None


def _present(kind: Kind, rows: list[tuple[int, dict]]) -> dict[str, set[int]]:
    """For each reference, the ids among the page's that exist here (one query each)."""
    found: dict[str, set[int]] = {}
    for ref in kind.refs:
        wanted = {f[ref.attname] for _pk, f in rows if f.get(ref.attname) is not None}
        model = BY_KEY[ref.kind].model
        found[ref.attname] = set(model.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    return found


def _holders(kind: Kind, rows: list[tuple[int, dict]]) -> dict[str, dict]:
    """For each unique rule, value -> the id of the row here that holds it."""
    holders: dict[str, dict] = {}
    for rule in kind.uniques:
        values = {f[rule.name] for _pk, f in rows if f.get(rule.name)}
        query = kind.model.objects.filter(**{f"{rule.name}__in": values}, **rule.when)
        holders[rule.name] = dict(query.values_list(rule.name, "pk"))
    return holders


def _applies(rule, fields: dict, obj) -> bool:
    return all((fields.get(k) if k in fields else getattr(obj, k, None)) == v
               for k, v in rule.when.items())


def _reason(kind: Kind, pk: int, fields: dict, obj, present, holders,
            report: Report) -> str:
    for ref in kind.refs:
        target = fields.get(ref.attname, getattr(obj, ref.attname, None) if obj else None)
        if target is None:
            if ref.required:
                return _("it has no %(kind)s") % {"kind": BY_KEY[ref.kind].one}
            continue
        if target not in present[ref.attname]:
            if target == pk and ref.kind == kind.key:  # a group that is its own parent
                return _("it is its own parent")
            if report.was_skipped(ref.kind, target):
                return _("its %(kind)s %(id)s was skipped") % {
                    "kind": BY_KEY[ref.kind].one, "id": target}
            return _("its %(kind)s %(id)s is not here") % {
                "kind": BY_KEY[ref.kind].one, "id": target}
    for rule in kind.uniques:
        value = fields.get(rule.name)
        holder = holders[rule.name].get(value) if value else None
        if holder is not None and holder != pk and _applies(rule, fields, obj):
            return rule.text(value, holder)
    return ""


def _release(kind: Kind, holders, obj, pk: int) -> None:
    """``obj`` is about to change: the unique values it held are no longer its."""
    for rule in kind.uniques:
        old = getattr(obj, rule.name, None)
        if old and holders[rule.name].get(old) == pk:
            del holders[rule.name][old]


def _claim(kind: Kind, holders, obj, pk: int) -> None:
    for rule in kind.uniques:
        value = getattr(obj, rule.name, None)
        if value and all(getattr(obj, k) == v for k, v in rule.when.items()):
            holders[rule.name][value] = pk


# Kinds written a page at a time with one bulk insert; the others (few rows, or a model
# whose save signals matter: a NAS's clears the RADIUS client cache) object by object.
AT_ONCE = {"tariffs", "services", "subscribers", "attributes", "logins", "subscriptions"}


class _Outcome:
    """The report's entries of a page written at once, kept until the page is written
    (a page that falls back to object by object is counted there instead)."""

    def __init__(self, report: Report):
        self.report = report
        self.skips: list[tuple[str, int, str]] = []
        self.counts: list[tuple[str, str]] = []
        self.local: set[tuple[str, int]] = set()

    def skip(self, kind: str, pk, reason: str) -> None:
        self.skips.append((kind, pk, reason))
        self.local.add((kind, pk))

    def count(self, kind: str, outcome: str) -> None:
        self.counts.append((kind, outcome))

    def was_skipped(self, kind: str, pk) -> bool:
        return (kind, pk) in self.local or self.report.was_skipped(kind, pk)

    def apply(self) -> None:
        for kind, pk, reason in self.skips:
            self.report.skip(kind, pk, reason)
        for kind, outcome in self.counts:
            self.report.count(kind, outcome)


def import_page(*, kind: Kind, rows: list[tuple[int, dict]], report: Report,
                thresholds: dict[int, Decimal] | None = None) -> None:
    """Create or update ``rows`` ((Carbon id, our fields)) of ``kind``; call inside a
    transaction. Counts go to ``report``; an object that cannot be written is skipped
    there with its reason.

    The page is written at once (its new rows in one bulk insert, in a savepoint) when
    the kind allows it; when the database refuses that (a rule the checks before did not
    foresee), the savepoint is rolled back and the page is written again object by object,
    each in a savepoint of its own, so the refused object is skipped with the database's
    reason and the rest is written."""
    if kind.key in AT_ONCE and len(rows) > 1:
        outcome = _Outcome(report)
        try:
            with transaction.atomic():
                _write_page(kind, rows, outcome, thresholds, at_once=True)
        except IntegrityError:
            pass
        else:
            outcome.apply()
            return
    _write_page(kind, rows, report, thresholds, at_once=False)


def _write_page(kind: Kind, rows: list[tuple[int, dict]], report, thresholds,
                at_once: bool) -> None:
    model = kind.model
    existing = model.objects.in_bulk([pk for pk, _f in rows])
    present = _present(kind, rows)
    holders = _holders(kind, rows)
    fks = [f.name for f in model._meta.concrete_fields if f.is_relation]
    audits: list[AuditEntry] = []
    creates: list = []
    who = actor_fields(ACTOR)
    for pk, fields in rows:
        obj = existing.get(pk)
        reason = _reason(kind, pk, fields, obj, present, holders, report)
        if reason:
            report.skip(kind.key, pk, reason)
            continue
        if obj is None:
            action, old = "create", None
            obj = model(pk=pk, **fields)
            changed = sorted(fields)
        else:
            changed = sorted(n for n, v in fields.items() if getattr(obj, n) != v)
            if not changed:
                report.count(kind.key, "unchanged")
                continue
            action = "update"
            old = {n: _json(getattr(obj, n)) for n in changed}
            _release(kind, holders, obj, pk)
            for name in changed:
                setattr(obj, name, fields[name])
        try:
            _check(kind, obj, fks)
            if at_once:  # an IntegrityError here rolls the page back (import_page)
                if action == "create":
                    creates.append(obj)
                else:
                    obj.save(update_fields=changed)
                    _after_update(kind, obj, changed)
            else:
                with transaction.atomic():
                    if action == "create":
                        obj.save(force_insert=True)
                        _after_create(kind, [obj], thresholds)
                    else:
                        obj.save(update_fields=changed)
                        _after_update(kind, obj, changed)
        except InvalidInput as exc:
            existing.pop(pk, None)
            report.skip(kind.key, pk, str(exc))
            continue
        except IntegrityError as exc:
            if at_once:
                raise
            existing.pop(pk, None)
            text = kind.conflict(fields) if kind.conflict else " ".join(str(exc).split())
            report.skip(kind.key, pk, text)
            continue
        _claim(kind, holders, obj, pk)
        for ref in kind.refs:  # a group is the parent of the next ones in its page
            if ref.kind == kind.key:
                present[ref.attname].add(pk)
        report.count(kind.key, "created" if action == "create" else "updated")
        subscriber = getattr(obj, kind.audit_subscriber) if kind.audit_subscriber else None
        audits.append(AuditEntry(
            **who, action=f"carbon_import_{action}"[:50], subscriber_id=subscriber,
            object_type=model._meta.model_name, object_id=str(pk), old=old,
            new={n: _json(getattr(obj, n)) for n in changed},
        ))
    if creates:
        with transaction.atomic():
            _bulk_insert(model, creates)
            _after_create(kind, creates, thresholds)
    AuditEntry.objects.bulk_create(audits)


def _bulk_insert(model, objs: list) -> None:
    """``objs`` in one statement (COPY on PostgreSQL, executemany on SQLite), each value
    prepared by its field as the ORM's insert prepares it; auto_now columns get now. A
    quarter of bulk_create's cost, which builds the SQL of every row."""
    from asr_billing.demo.common import RowWriter

    fields = [f for f in model._meta.concrete_fields
              if not (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))]
    prepare = [(f.attname, f.get_db_prep_save) for f in fields]
    rows = [tuple(prep(getattr(obj, name), connection) for name, prep in prepare)
            for obj in objs]
    with connection.wrap_database_errors:  # COPY's refusal as Django's IntegrityError
        RowWriter().write(model, [f.attname for f in fields], rows)


def _after_create(kind: Kind, objs: list, thresholds) -> None:
    """New subscribers get their accounts as subscriber_create makes them: balance 0.00
    (the money comes later), and the cut-off flag their tariffs' thresholds give."""
    if kind.key != "subscribers":
        return
    from asr_billing.finance.models import Account

    _bulk_insert(Account, [Account(subscriber_id=obj.pk) for obj in objs])
    cut = []
    for obj in objs:
        threshold = (thresholds or {}).get(obj.tariff_id, ZERO) if obj.tariff_id else ZERO
        if is_negbal(balance=ZERO, credit_limit=ZERO, promised=ZERO, threshold=threshold):
            obj.negbal = True
            cut.append(obj.pk)
    if cut:
        type(objs[0]).objects.filter(pk__in=cut).update(negbal=True)


def _after_update(kind: Kind, obj, changed: list[str]) -> None:
    if kind.key == "subscribers" and "tariff_id" in changed:
        subscriber_state_refresh(subscriber_id=obj.pk, actor=ACTOR)


def attribute_kinds_ensure(*, kinds: dict[int, str], report: Report) -> None:
    """Attribute kinds the values of a page name and we lack: created with Carbon's id and
    its name (or "Attribute N" when the source does not send names)."""
    have = set(Attribute.objects.filter(pk__in=kinds).values_list("pk", flat=True))
    for pk in sorted(set(kinds) - have):
        name = (kinds[pk] or "").strip()[:200] or _("Attribute %(id)s") % {"id": pk}
        Attribute.objects.create(pk=pk, name=name, code=f"carbon_{pk}")
        AuditEntry.objects.create(
            **actor_fields(ACTOR), action="carbon_import_create", object_type="attribute",
            object_id=str(pk), new={"name": name, "code": f"carbon_{pk}"})
        report.count("attribute_kinds", "created")


def sequences_reset(models) -> None:
    """After rows were written with explicit ids, move each table's id sequence past the
    largest id, so the billing's own new rows never collide with imported ones
    (PostgreSQL; SQLite's AUTOINCREMENT follows the largest id by itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
