"""The live demo source and the empty target of test_import.py, for the other modules
(module-scoped: each module starts its own source)."""

from tests.carbon_import.test_import import source, target  # noqa: F401 - fixtures
