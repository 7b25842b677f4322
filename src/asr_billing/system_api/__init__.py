"""The legacy system API at /system_api/, wire-compatible with Carbon Billing 5.

A thin adapter: it reads the request the way the real clients send it (params.py),
checks access (access.py), routes ``method1`` to a registered function (registry.py) and
renders the answer (render.py). The functions (collector.py, fiscal.py, api_1c.py, and
``web_cabinet.*`` registered by the cabinet app) translate wire names and call services
and selectors. See docs/system-api.md.
"""
