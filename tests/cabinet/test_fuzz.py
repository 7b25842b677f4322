"""Random arguments to every cabinet function, with a valid session: never a 500; an
error answer changes nothing (but a failed-login counter)."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asr_billing.system_api.registry import registered

from .conftest import LOGIN, PASSWORD, db_state

METHODS = sorted(name.split(".", 1)[1] for name in registered()
                 if name.startswith("web_cabinet."))
KEYS = ["login", "passwd", "src_ip", "usluga_id", "user_usluga_id", "start_date", "end_date",
        "page_number", "per_page", "filter", "get_user_uslugas_all", "get_user_uslugas",
        "get_setted", "user_password", "sms", "email", "summa_in", "operator",
        "contract_number", "token", "uid", "psw1", "psw2", "base_url"]

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), text,
    st.sampled_from(["testlogin", "testpsw", "10.20.30.41", "01.06.2024", "31.12.2999",
                     "2024-05-10", "01.01.0001", "100.00", "0", "-1", "1e400", "NaN",
                     "SBERBANK_ACQ", "+79161234567", "a@b.ru", "1", "\x00", "null",
                     "9" * 29]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=2),
                   st.dictionaries(text, scalars, max_size=2))
arg1s = st.dictionaries(st.sampled_from(KEYS) | text, values, max_size=5)


def without_counters(state: dict) -> dict:
    return {k: v for k, v in state.items() if k not in ("throttle", "sessions")}


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(method=st.sampled_from(METHODS), arg1=arg1s, encode=st.booleans())
def test_random_arguments(client, world, method, arg1, encode):
    suid = client.get("/system_api/?format=json&context=web&method1=web_cabinet.login&arg1="
                      + quote(json.dumps({"login": LOGIN, "passwd": PASSWORD}))).json().get(
        "session_id")
    body = json.dumps({**arg1, "suid": suid}, ensure_ascii=False)
    # Raw JSON punctuation as the JS clients glue it; the rest encoded (or all, as Go).
    arg_text = quote(body, safe="" if encode else '{}":,[]')
    before = db_state()
    response = client.get(f"/system_api/?format=json&context=web&model=users"
                          f"&method1=web_cabinet.{method}&arg1={arg_text}")
    assert response.status_code == 200, (method, arg1, response.content[:200])
    answer = response.json()
    if isinstance(answer, dict) and "error" in answer:
        assert without_counters(db_state()) == without_counters(before), (method, arg1)
