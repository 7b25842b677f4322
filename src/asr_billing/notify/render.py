"""Message texts: Django's template language on the event's fields, as plain text."""

from __future__ import annotations

from django.template import Context, Engine, TemplateSyntaxError

# No loaders, no HTML escaping (these are e-mail and SMS texts), no libraries: a template
# sees only the fields of its event, and {% include %} finds nothing to include.
ENGINE = Engine(autoescape=False, libraries={}, builtins=["django.template.defaulttags",
                                                          "django.template.defaultfilters"])


class TemplateError(ValueError):
    """The text is not a valid template; the message says where."""


def render(text: str, fields: dict) -> str:
    try:
        template = ENGINE.from_string(text)
    except TemplateSyntaxError as exc:
        raise TemplateError(str(exc)) from None
    return template.render(Context(fields, autoescape=False)).strip()
