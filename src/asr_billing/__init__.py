"""asr-billing: an ISP billing system wire-compatible with Carbon Billing 5's system API."""

__version__ = "0.1.0"
