"""network.shaping: a tariff's rates in each vendor's dialect (exact strings)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from asr_billing.network.radius_auth import nas_cache_clear
from asr_billing.network.shaping import no_money_attributes, rate_attributes

RATES = ("rate_in", "ceil_in", "burst_in", "cburst_in",
         "rate_out", "ceil_out", "burst_out", "cburst_out")


def rates(**values):
    return SimpleNamespace(**{name: values.get(name) for name in RATES})


# 100 Mbit/s down, 50 up, nothing else: the conftest tariff.
FLAT = rates(rate_in=100000, ceil_in=100000, rate_out=50000, ceil_out=50000)
# The demo's "Старт 20": 20 Mbit/s (×1024) down, 10 up, half guaranteed, bursts /8 and /4.
DEMO = rates(rate_in=10240, ceil_in=20480, burst_in=2560, cburst_in=5120,
             rate_out=5120, ceil_out=10240, burst_out=1280, cburst_out=2560)


@pytest.mark.parametrize(("nas_type", "tariff", "expected"), [
    # MikroTik: upload/download (rx/tx from the router's side), M for whole Mbit/s.
    ("mikrotik", FLAT, {"Mikrotik-Rate-Limit": ["50M/100M"]}),
    ("mikrotik", DEMO, {"Mikrotik-Rate-Limit": [
        "10240k/20480k 12800k/25600k 6400k/12800k 10/10 8 5120k/10240k"]}),
    # A guaranteed rate without bursts: empty burst slots so the min-rate can follow.
    ("mikrotik", rates(rate_in=50000, ceil_in=100000),
     {"Mikrotik-Rate-Limit": ["0/100M 0/0 0/0 0/0 8 0/50M"]}),
    # Only the ceil given, one direction: 0 is unlimited for RouterOS.
    ("mikrotik", rates(ceil_out=1500), {"Mikrotik-Rate-Limit": ["1500k/0"]}),
    # accel-ppp: down/up in plain kbit/s, never M or G.
    ("accel-ppp", FLAT, {"Filter-Id": ["100000/50000"]}),
    ("accel-ppp", DEMO, {"Filter-Id": ["20480/10240"]}),
    ("accel-ppp", rates(rate_in=2000000), {"Filter-Id": ["2000000/0"]}),
    # Cisco ISG: bit/s, normal burst 1.5 s of the rate in bytes, excess twice that.
    ("cisco", FLAT, {"Cisco-Account-Info": [
        "QU;50000000;9375000;18750000;D;100000000;18750000;37500000"]}),
    ("cisco", DEMO, {"Cisco-Account-Info": [
        "QU;10240000;1920000;3840000;D;20480000;3840000;7680000"]}),
    ("cisco", rates(ceil_in=1000), {"Cisco-Account-Info": ["QD;1000000;187500;375000"]}),
    # Vendors we do not shape, and tariffs that shape nothing.
    ("juniper", FLAT, {}),
    ("xge", FLAT, {}),
    ("other", FLAT, {}),
    ("mikrotik", rates(), {}),
    ("accel-ppp", rates(rate_in=0, ceil_in=0), {}),
    ("cisco", None, {}),
])
def test_rate_attributes(nas_type, tariff, expected):
    assert rate_attributes(nas_type=nas_type, tariff=tariff) == expected


def test_rate_attributes_take_a_tariff(tariff):
    assert rate_attributes(nas_type="mikrotik", tariff=tariff) == {
        "Mikrotik-Rate-Limit": ["50M/100M"]
    }


@pytest.fixture(autouse=True)
def _fresh_nas_cache():
    nas_cache_clear()


def test_no_money_defaults():
    # Defaults: pool and address list "negbal", 256 kbit/s, Session-Timeout 300.
    assert no_money_attributes(nas_type="mikrotik") == {
        "Framed-Pool": ["negbal"],
        "Mikrotik-Address-List": ["negbal"],
        "Mikrotik-Rate-Limit": ["256k/256k"],
        "Session-Timeout": ["300"],
    }
    assert no_money_attributes(nas_type="accel-ppp") == {
        "Framed-Pool": ["negbal"], "Filter-Id": ["256/256"], "Session-Timeout": ["300"],
    }
    assert no_money_attributes(nas_type="cisco") == {
        "Framed-Pool": ["negbal"],
        "Cisco-Account-Info": ["QU;256000;48000;96000;D;256000;48000;96000"],
        "Session-Timeout": ["300"],
    }
    assert no_money_attributes(nas_type="juniper") == {
        "Framed-Pool": ["negbal"], "Session-Timeout": ["300"],
    }


def test_no_money_settings_followed(config_edit):
    config_edit("radius", "no_money.pool", "")
    config_edit("radius", "no_money.address_list", "pay-me")
    config_edit("radius", "no_money.rate_kbit", "2000")
    config_edit("radius", "no_money.session_timeout", "0")
    assert no_money_attributes(nas_type="mikrotik") == {
        "Mikrotik-Address-List": ["pay-me"], "Mikrotik-Rate-Limit": ["2M/2M"],
    }
    config_edit("radius", "no_money.rate_kbit", "0")
    config_edit("radius", "no_money.address_list", "")
    assert no_money_attributes(nas_type="mikrotik") == {}
