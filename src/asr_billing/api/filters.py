"""django-filter with bounds: a number filter takes only what a database column can hold.

Addresses and times are checked too. Without these checks ``?account=-18612492679746924544``
reached the database and failed there (SQLite: "Python int too large"; PostgreSQL refuses
an inet "x" or a time zone offset beyond ±15:59) — a 500 instead of a 400. Foreign keys
filter by id as plain numbers: an id that matches nothing gives an empty page, as any
other filter value does, rather than an error.
"""

from __future__ import annotations

from datetime import UTC

from django import forms
from django.db import models
from django_filters import rest_framework as filters
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", BIGINT_MIN)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


class UtcDateTimeField(forms.DateTimeField):
    """An ISO 8601 date and time in UTC: PostgreSQL refuses offsets beyond ±15:59 (a
    500 before), and every offset means the same instant in UTC."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None and result.tzinfo is not None:
            result = result.astimezone(UTC)
        return result


class DateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class IpFilter(filters.CharFilter):
    """An address checked before the query (PostgreSQL's inet column refuses "x")."""

    field_class = forms.GenericIPAddressField


INTEGER_FIELDS = (
    models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField,
    models.PositiveIntegerField, models.PositiveSmallIntegerField, models.SmallIntegerField,
    models.PositiveBigIntegerField, models.ForeignKey, models.OneToOneField,
)


class ApiFilterSet(filters.FilterSet):
    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        **{field: {"filter_class": IdFilter} for field in INTEGER_FIELDS},
        models.DateTimeField: {"filter_class": DateTimeFilter},
        models.GenericIPAddressField: {"filter_class": IpFilter},
    }


class ApiFilterBackend(filters.DjangoFilterBackend):
    filterset_base = ApiFilterSet
