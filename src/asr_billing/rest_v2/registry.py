"""The declarative whitelist of REST v2: which Carbon models exist, their fields, relations,
lookups, writable fields and methods, and what each maps to in our ORM.

Carbon exposes its Django ORM almost raw; we expose only what a ``ModelSpec`` declares.
Everything the chain executor, the filter translator and the serializer do is driven by
these declarations, so the whitelist is one readable table per model (``models_map.py``)
and ``GET /rest_api/v2/`` is generated from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models

from asr_billing.core.errors import ApplicationError
from asr_billing.rest_v2.values import TYPES

# How many relations a name may cross with "__" (in lookups, order_by and fields), and how
# many tables one query may join in all: SQLite refuses more than 64, and PostgreSQL's
# planner slows down long before that.
MAX_RELATION_DEPTH = 5
MAX_TABLES = 40
LOOKUPS_ORDERED = ("exact", "in", "range", "gt", "gte", "lt", "lte", "icontains", "isnull")
ALL_LOOKUPS = frozenset(LOOKUPS_ORDERED)
# Django lookups we know and refuse, to say "not allowed" rather than "no such field".
KNOWN_DJANGO_LOOKUPS = frozenset(
    {
        "iexact", "contains", "startswith", "istartswith", "endswith", "iendswith",
        "regex", "iregex", "search", "year", "month", "day", "week_day", "week", "quarter",
        "hour", "minute", "second", "date", "time", "iso_year", "iso_week_day",
        "contained_by", "overlap", "has_key", "has_keys", "has_any_keys", "unaccent",
        "trigram_similar",
    }
)
DEFAULT_LOOKUPS = {
    "int": ALL_LOOKUPS - {"icontains"},
    "decimal": ALL_LOOKUPS - {"icontains"},
    "date": ALL_LOOKUPS - {"icontains"},
    "datetime": ALL_LOOKUPS - {"icontains"},
    "str": ALL_LOOKUPS,
    "ip": frozenset({"exact", "in", "isnull"}),
    "flag": frozenset({"exact", "in", "isnull"}),
}


@dataclass(frozen=True)
class PrefetchNeed:
    """A reverse relation a computed field reads, loaded for all rows in one query."""

    lookup: str  # ORM path from the model, e.g. "voluntary_blocks"
    to_attr: str  # where the list lands on each object
    queryset: Callable[[], models.QuerySet]


@dataclass(frozen=True)
class Field:
    """One Carbon field.

    ``path`` is the ORM path from our model (may cross forward relations, e.g.
    ``subscriber__sms_phone``). A computed field has ``value`` (object -> Python value)
    instead, with the relations it reads declared in ``select``/``prefetch`` so a list
    never costs a query per row; it is filterable only through ``alias`` (an ORM
    expression) or ``q`` (lookup, value -> Q).
    """

    name: str
    type: str
    path: str | None = None
    doc: str = ""
    value: Callable[[Any], Any] | None = None
    select: tuple[str, ...] = ()
    prefetch: tuple[PrefetchNeed, ...] = ()
    alias: Callable[[], Any] | None = None
    q: Callable[[str, Any], models.Q] | None = None
    lookups: frozenset[str] | None = None  # None: the type's defaults; empty: not filterable
    writer: str | None = None  # the save() group that writes it; None: read-only
    nullable: bool = True
    default: bool = True  # part of the answer when the request names no fields

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"{self.name}: unknown type {self.type}")
        if (self.path is None) == (self.value is None):
            raise ValueError(f"{self.name}: give exactly one of path and value")

    @property
    def allowed_lookups(self) -> frozenset[str]:
        if self.lookups is not None:
            return self.lookups
        if self.path is None and self.alias is None and self.q is None:
            return frozenset()
        return DEFAULT_LOOKUPS[self.type]


@dataclass(frozen=True)
class Relation:
    """A relation to another declared model. Single relations (``many=False``) may cross
    several forward hops (``account__subscriber``) and come with an ``<name>_id`` field
    declared separately; ``many`` relations are reverse foreign keys, loaded with one
    prefetch query per relation whatever the number of rows."""

    name: str
    target: str
    path: str
    many: bool = False
    doc: str = ""

    @property
    def to_attr(self) -> str:
        return f"_rv_{self.name}"


@dataclass(frozen=True)
class Method:
    """A callable the chain may reach: ``func(ctx, spec, obj, arg, name)`` where ``obj`` is
    the object (object methods) or None (model methods), ``arg`` the decoded argN and
    ``name`` the method as called; it returns a chain state or a JSON-able value."""

    name: str
    func: Callable[..., Any]
    writes: bool
    args: str = ""
    returns: str = ""
    doc: str = ""


@dataclass
class ModelSpec:
    name: str
    doc: str
    model: str | None  # "app_label.ModelName"; None for models without a table (Version)
    fields: tuple[Field, ...] = ()
    relations: tuple[Relation, ...] = ()
    order: tuple[str, ...] = ("pk",)
    methods: tuple[Method, ...] = ()  # on an object (after objects.get)
    model_methods: tuple[Method, ...] = ()  # on the model itself (method1)
    writers: dict[str, Callable[..., Any]] = field(default_factory=dict)
    create: Callable[..., Any] | None = None  # objects.create(ctx, spec, values) -> object
    create_fields: tuple[str, ...] = ()
    queryset: Callable[[], models.QuerySet] | None = None
    # Abonents: objects.filter/get with is_folder=1 switch to the spec of groups.
    switch: tuple[str, dict[bool, str]] | None = None
    hidden: bool = False  # reachable only through a switch or a relation, not by URL
    wire: str | None = None  # the "model" name in answers, when not ``name``

    def __post_init__(self):
        self._fields = {f.name: f for f in self.fields}
        self._relations = {r.name: r for r in self.relations}
        self._methods = {m.name: m for m in self.methods}
        self._model_methods = {m.name: m for m in self.model_methods}
        clash = set(self._fields) & set(self._relations)
        if clash:
            raise ValueError(f"{self.name}: both field and relation: {clash}")
        for f in self.fields:
            if f.writer is not None and f.writer not in self.writers:
                raise ValueError(f"{self.name}.{f.name}: no writer {f.writer}")

    @property
    def orm_model(self) -> type[models.Model]:
        app_label, name = self.model.split(".")
        return apps.get_model(app_label, name)

    def base_queryset(self) -> models.QuerySet:
        if self.queryset is not None:
            return self.queryset()
        return self.orm_model._default_manager.all()

    def field(self, name: str) -> Field | None:
        return self._fields.get("id" if name == "pk" else name)

    def relation(self, name: str) -> Relation | None:
        return self._relations.get(name)

    def method(self, name: str) -> Method | None:
        return self._methods.get(name)

    def model_method(self, name: str) -> Method | None:
        return self._model_methods.get(name)

    def model_method_for(self, name: str) -> Method | None:
        """A prefix method such as ``web_cabinet.*`` that covers ``name``."""
        for method in self.model_methods:
            if method.name.endswith(".*"):
                prefix = method.name[:-1]
                if name.startswith(prefix) and len(name) > len(prefix):
                    return method
        return None

    @property
    def wire_name(self) -> str:
        return self.wire or self.name

    def default_field_names(self) -> list[str]:
        return [f.name for f in self.fields if f.default]

    def writable_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.writer is not None]


class AccessRefused(ApplicationError):
    """The caller may not read (or change) a model the request reaches. Raised by a read
    check (``ReadCheck``) that an adapter passes down; REST v2 itself passes none."""

    code = "forbidden"


# Called with every model a request reaches — the chain's model, each relation a lookup,
# ``order_by`` or ``fields`` crosses, the model of the answer — and raises AccessRefused
# when the caller may not read it (the old REST API's operator permissions).
ReadCheck = Callable[["ModelSpec"], None]


_SPECS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    if spec.name in _SPECS:
        raise ValueError(f"model {spec.name} declared twice")
    _SPECS[spec.name] = spec
    return spec


def spec_named(name: str) -> ModelSpec:
    """A declared model by its exact name (relations and switches)."""
    return _SPECS[name]


def spec_for_url(name: str) -> ModelSpec | None:
    """The model a URL names. Carbon's names are CamelCase; the case is not significant
    (cabinet clients send both ``users`` and ``Users``)."""
    lowered = name.lower()
    for spec in _SPECS.values():
        if not spec.hidden and spec.name.lower() == lowered:
            return spec
    return None


def public_specs() -> list[ModelSpec]:
    return [s for s in _SPECS.values() if not s.hidden]
