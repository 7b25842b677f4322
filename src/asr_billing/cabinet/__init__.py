"""The subscriber cabinet: sessions, the cabinet functions' rules and data.

The same services serve the cabinet pages, the system API's ``web_cabinet.*`` functions
(``system_api_functions.py``, context=web) and REST v2's ``Users`` methods.
"""
