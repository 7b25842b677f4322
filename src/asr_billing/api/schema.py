"""The OpenAPI schema's parts that drf-spectacular cannot infer: the API key scheme and
the problem-details answers every operation may give."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details (application/problem+json)",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"},
                               "code": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

ERRORS = {
    "400": "Invalid input: `errors` names each field that failed",
    "401": "No API key, an unknown or revoked one, or a bad signature",
    "403": "The key lacks the scope, or is used from an address it may not be",
    "404": "No such object",
    "409": "Conflicts with the current state (taken, already done)",
    "422": "Idempotency-Key used before for another request",
    "429": "The key's rate limit is reached (Retry-After)",
    "503": "The database is unavailable; retry later",
}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "asr_billing.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "asr_<prefix>_<secret>",
            "description": "`asr-billing apikey create --name N --scopes read …` prints one.",
        }


def add_problem_responses(result, generator, request, public):
    """Postprocessing hook: every operation documents its problem-details answers."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            for code, text in ERRORS.items():
                if code == "422" and method != "post":
                    continue
                if code == "409" and method == "get":
                    continue
                responses.setdefault(code, {
                    "description": text,
                    "content": {"application/problem+json": {"schema": ref}},
                })
    return result
