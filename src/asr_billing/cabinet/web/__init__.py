"""The subscriber cabinet as web pages under /cabinet/ (docs/cabinet.md).

Server-rendered Django templates over the same cabinet services and selectors the
``web_cabinet.*`` functions use (one rule, two faces): ``auth`` holds the frame (the
session cookie, logging in and out, automatic login by address, the language), each
``views_*`` module one page or a group of them, ``chart`` the balance chart (SVG).
"""
