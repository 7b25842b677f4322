"""API REST v2.0, Carbon-compatible: ``/rest_api/v2/<Model>/`` with method chains over a
declared whitelist of models, fields, lookups and methods (docs/rest-api-v2.md)."""
