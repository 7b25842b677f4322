"""Template filters of the admin's own pages."""

from django import template

from asr_billing.core.admin_mixins import money_text

register = template.Library()


@register.filter
def money(value) -> str:
    """Money as every admin page writes it: 754,88 in Russian, 754.88 in English."""
    return money_text(value)
