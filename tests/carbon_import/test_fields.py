"""Which fields the import asks a source for: a real Carbon lacks some of ours (the shaping
rates), which then keep our values and are named in the report."""

from __future__ import annotations

import pytest

from asr_billing.carbon_import.client import CarbonError
from asr_billing.carbon_import.importer import fields_of
from asr_billing.carbon_import.kinds import BY_KEY, RATES
from asr_billing.carbon_import.report import Report

pytestmark = pytest.mark.usefixtures("english")


class _Source:
    """Answers like a REST v2.0 that has no field named in ``lacks``."""

    def __init__(self, lacks):
        self.lacks = set(lacks)
        self.calls = []

    def call(self, model, *chain, fields=None, limit=None, extra=None):
        self.calls.append(fields)
        unknown = self.lacks & set(fields or ())
        if unknown:
            raise CarbonError(f"{model} objects.filter: the source answered: Cannot resolve "
                              f"keyword '{sorted(unknown)[0]}' into field")
        return []


def test_a_source_with_every_field_is_asked_once():
    source, report = _Source(()), Report()
    kind = BY_KEY["tariffs"]
    assert fields_of(source, kind, report) == [*kind.required, *kind.optional]
    assert len(source.calls) == 1 and report.missing == {}


def test_missing_rates_are_left_out_and_reported():
    source, report = _Source(RATES), Report()
    kind = BY_KEY["tariffs"]
    fields = fields_of(source, kind, report)
    assert not set(RATES) & set(fields)
    assert "summa" in fields and "name" in fields
    assert report.missing == {"tariffs": list(RATES)}
    lines = report.lines(BY_KEY.values())
    assert ("Tariffs: the source has no rate_in, ceil_in, burst_in, cburst_in, rate_out, "
            "ceil_out, burst_out, cburst_out; our defaults are kept for them.") in lines


def test_a_missing_required_field_stops_with_the_sources_words():
    with pytest.raises(CarbonError, match="Cannot resolve keyword 'name'"):
        fields_of(_Source({"name"}), BY_KEY["tariffs"], Report())
