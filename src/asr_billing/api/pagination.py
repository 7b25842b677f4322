"""Lists page by cursor: a stable order (the requested ordering, then ``id``), no COUNT, and
a page costs the same queries at the first row as at the millionth."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class StableCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500
    ordering = ("pk",)
    cursor_query_description = "The page: the `next` or `previous` link of the last answer."
    page_size_query_description = "Rows per page, 1 to 500 (default 50)."

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view))
        # Ties in the requested field are broken by the primary key, so no row is skipped or
        # repeated between pages.
        if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            ordering.append("-pk" if ordering and ordering[0].startswith("-") else "pk")
        return tuple(ordering)

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        from rest_framework.exceptions import ValidationError

        if not value.isdigit() or not 1 <= int(value) <= self.max_page_size:
            raise ValidationError({"limit": [f"a whole number from 1 to {self.max_page_size}"]})
        return int(value)
