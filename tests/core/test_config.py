"""The cfg/config parser and writer (asr_billing.core.config): no Django needed."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asr_billing.core.config import ConfigError, ConfigFile, quote

# Our own messages are compared in English (the default language is Russian).
pytestmark = pytest.mark.usefixtures("english")

SAMPLE = """\
# asr-billing configuration
#   indented comment follows
    # indented comment

declare -A app
declare -A network
app['time_zone']='Europe/Moscow'   # trailing comment
app['language']='ru'
app['company.name']='ООО «Связь» и партнёры'
app['company.name.widget']='inputbox "Название" "Как в договоре"'
network['api.context']='web cabinet collector'
network["api.allowed_ips"]="127.0.0.1 ::1 10.0.0.0/8"
network['api.collector.psw']=collectortestpsw
network['note']='it'\\''s'
network['escaped']="say \\"hi\\" \\$5 \\`x\\` back\\\\slash"
network['mixed']='a b'"c d"e
network['empty']=''
network['bare']=
\tapp['indented']='yes'\t# tab before the comment
app['language']='en'
"""


def parse(text: str, path: str = "/home/cfg/config") -> ConfigFile:
    return ConfigFile.parse(text, path)


# -- reading -----------------------------------------------------------------------------


def test_sample_values():
    values = parse(SAMPLE).values()
    assert values == {
        ("app", "time_zone"): "Europe/Moscow",
        ("app", "language"): "en",  # the later line wins, as in bash
        ("app", "company.name"): "ООО «Связь» и партнёры",
        ("network", "api.context"): "web cabinet collector",
        ("network", "api.allowed_ips"): "127.0.0.1 ::1 10.0.0.0/8",
        ("network", "api.collector.psw"): "collectortestpsw",
        ("network", "note"): "it's",
        ("network", "escaped"): 'say "hi" $5 `x` back\\slash',
        ("network", "mixed"): "a bc de",
        ("network", "empty"): "",
        ("network", "bare"): "",
        ("app", "indented"): "yes",
    }


def test_widget_lines_are_kept_but_ignored():
    config = parse(SAMPLE)
    assert ("app", "company.name.widget") not in config.values()
    assert config.get("app", "company.name.widget") is None
    assert "app['company.name.widget']='inputbox \"Название\" \"Как в договоре\"'\n" in (
        config.render()
    )


def test_get_falls_back_to_the_schema_default():
    config = parse("")
    assert config.get("app", "django.loglevel") == "error"
    assert config.get("app", "contract.prefix") == "BILL"
    assert config.get("app", "unknown") is None
    assert config.get("app", "unknown", "dflt") == "dflt"


def test_double_quotes_keep_unknown_escapes_literally():
    assert parse('a[\'k\']="x\\n\\ty"\n').values()[("a", "k")] == "x\\n\\ty"


def test_unquoted_backslash_escapes_the_next_character():
    assert parse("a['k']=one\\ two\n").values()[("a", "k")] == "one two"


# -- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        SAMPLE,
        "",
        "\n",
        "\n\n# only comments\n\n",
        "a['k']='v'",  # no newline at the end of the file
        "a['k']='v'\n\n\n",
        "a['k']='v'\r\nb['k']='w'\r\n",  # written on Windows
        "a['k']='v\x0cw\x85x\u2028y'\n",  # characters str.splitlines() would split on
    ],
    ids=["sample", "empty", "newline", "comments", "no-eol", "blank-tail", "crlf", "odd-breaks"],
)
def test_parse_render_is_byte_identical(text):
    assert parse(text).render() == text


def test_crlf_lines_parse_without_the_carriage_return():
    assert parse("a['k']='v'\r\n").values() == {("a", "k"): "v"}


def test_load_and_save_keep_the_file_byte_identical(tmp_path):
    path = tmp_path / "config"
    data = SAMPLE.replace("\n", "\r\n", 2).encode("utf-8")
    path.write_bytes(data)
    path.chmod(0o640)
    config = ConfigFile.load(path)
    config.save()
    assert path.read_bytes() == data
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["config"]  # no temp file left


def test_save_never_exposes_the_file_to_others(tmp_path, monkeypatch):
    """The temp file holding the passwords is private from its creation, not made private
    by a chmod afterwards (another local user could open it in between)."""
    created = []
    real_open = os.open

    def spy_open(path, flags, mode=0o777, *args, **kwargs):
        if flags & os.O_CREAT:
            created.append((os.path.basename(path), mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy_open)
    path = tmp_path / "config"
    config = ConfigFile.parse(SAMPLE, path)
    config.save()
    assert path.stat().st_mode & 0o777 == 0o600
    assert created and all(mode & 0o077 == 0 for _, mode in created), created
    assert path.read_text(encoding="utf-8") == SAMPLE


# -- set -----------------------------------------------------------------------------------


def test_set_rewrites_only_the_value_of_the_last_assignment():
    config = parse(SAMPLE)
    config.set("app", "language", "ru")
    before = SAMPLE.splitlines(keepends=True)
    after = config.render().splitlines(keepends=True)
    assert len(after) == len(before)
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert changed == [("app['language']='en'\n", "app['language']='ru'\n")]
    assert config.values()[("app", "language")] == "ru"


def test_set_keeps_the_trailing_comment_and_indentation():
    config = parse(SAMPLE)
    config.set("app", "time_zone", "Asia/Yekaterinburg")
    config.set("app", "indented", "no")
    text = config.render()
    assert "app['time_zone']='Asia/Yekaterinburg'   # trailing comment\n" in text
    assert "\tapp['indented']='no'\t# tab before the comment\n" in text


def test_set_replaces_a_double_quoted_or_concatenated_value():
    config = parse(SAMPLE)
    config.set("network", "mixed", "plain")
    config.set("network", "api.allowed_ips", "10.1.2.3")
    text = config.render()
    assert "network['mixed']='plain'\n" in text
    assert "network[\"api.allowed_ips\"]='10.1.2.3'\n" in text


def test_set_quotes_single_quotes():
    config = parse(SAMPLE)
    config.set("app", "company.name", "O'Brien & Sons; $HOME `x`")
    assert "app['company.name']='O'\\''Brien & Sons; $HOME `x`'\n" in config.render()
    assert parse(config.render()).values()[("app", "company.name")] == (
        "O'Brien & Sons; $HOME `x`"
    )


def test_set_appends_a_new_key_after_the_last_line_of_its_section():
    text = "declare -A app\napp['a']='1'\n# about b\napp['b']='2'\n\nnet['x']='y'\n# end\n"
    config = parse(text)
    config.set("app", "c", "3")
    assert config.render() == (
        "declare -A app\napp['a']='1'\n# about b\napp['b']='2'\napp['c']='3'\n"
        "\nnet['x']='y'\n# end\n"
    )


def test_set_appends_a_new_section_at_the_end():
    config = parse("# header\napp['a']='1'")
    config.set("other", "key", "значение с пробелом")
    assert config.render() == "# header\napp['a']='1'\nother['key']='значение с пробелом'"
    assert parse(config.render()).values()[("other", "key")] == "значение с пробелом"


def test_set_in_an_empty_file():
    config = parse("")
    config.set("app", "language", "en")
    assert config.render() == "app['language']='en'\n"


def test_set_in_a_crlf_file_keeps_its_line_ending():
    config = parse("a['k']='v'  # c\r\n")
    config.set("a", "k", "w")
    assert config.render() == "a['k']='w'  # c\r\n"


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("1app", "k", "v", "bad section name '1app'"),
        ("app", "", "v", "bad key name ''"),
        ("app", "it's", "v", "bad key name \"it's\""),
        ("app", "k", "two\nlines", "values cannot span lines"),
        ("app", "k", "cr\r", "values cannot span lines"),
    ],
)
def test_set_refuses_bad_names_and_values(section, key, value, message):
    config = parse(SAMPLE)
    with pytest.raises(ConfigError) as info:
        config.set(section, key, value)
    assert info.value.message == message
    assert str(info.value).startswith("/home/cfg/config")
    assert config.render() == SAMPLE


def test_set_refuses_an_invalid_known_value_naming_the_line():
    config = parse(SAMPLE)
    with pytest.raises(ConfigError) as info:
        config.set("app", "language", "de")
    assert str(info.value) == (
        "/home/cfg/config:20: app['language']: must be one of ru, en, not 'de'"
    )
    assert config.render() == SAMPLE


def test_set_refuses_an_invalid_new_value_naming_the_line_it_would_take():
    config = parse("app['a']='1'\n# end\n")
    with pytest.raises(ConfigError) as info:
        config.set("app", "django.loglevel", "loud")
    assert str(info.value) == (
        "/home/cfg/config:2: app['django.loglevel']: "
        "must be one of debug, info, warning, error, critical, not 'loud'"
    )
    assert config.render() == "app['a']='1'\n# end\n"


def test_quote():
    assert quote("") == "''"
    assert quote("it's") == "'it'\\''s'"
    with pytest.raises(ValueError, match="values cannot span lines"):
        quote("a\nb")


# Any one-line value survives set -> render -> parse. Line breaks are refused by set.
ONE_LINE = st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)))


@given(value=ONE_LINE)
def test_any_value_round_trips_through_set(value):
    config = parse(SAMPLE)
    config.set("network", "free.text", value)
    config.set("app", "company.name", value)
    again = parse(config.render())
    assert again.values()[("network", "free.text")] == value
    assert again.values()[("app", "company.name")] == value
    assert again.render() == config.render()


@given(value=ONE_LINE)
def test_any_value_round_trips_through_a_file(tmp_path_factory, value):
    path = tmp_path_factory.mktemp("cfg") / "config"
    path.write_bytes(SAMPLE.encode("utf-8"))
    config = ConfigFile.load(path)
    config.set("app", "company.name", value)
    config.save()
    assert ConfigFile.load(path).values()[("app", "company.name")] == value


# -- malformed lines ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("app['k']='unterminated", "unterminated single quote"),
        ('app[\'k\']="unterminated', "unterminated double quote"),
        ("app['k']=$HOME", "shell expansion ($ or `) is not supported; quote it with '"),
        ("app['k']=\"$HOME\"", "shell expansion ($ or `) is not supported; quote it with '"),
        ("app['k']=`id`", "shell expansion ($ or `) is not supported; quote it with '"),
        ("app['k']=\"a`id`\"", "shell expansion ($ or `) is not supported; quote it with '"),
        ("app['k']=a;rm", "unexpected character ';' in value; quote the value with '"),
        ("app['k']=a\\", "dangling backslash"),
        ("app['k']='v' extra", "unexpected text after the value: 'extra'"),
        ("this is garbage", "expected section['key']='value', a # comment or a blank line"),
        ("1app['k']='v'", "expected section['key']='value', a # comment or a blank line"),
        ("app-x['k']='v'", "expected section['key']='value', a # comment or a blank line"),
        ("app[k]='v'", "expected section['key']='value', a # comment or a blank line"),
        ("app['k']+='v'", "expected section['key']='value', a # comment or a blank line"),
        ("source /etc/passwd", "expected section['key']='value', a # comment or a blank line"),
        ("declare -A", "expected section['key']='value', a # comment or a blank line"),
    ],
)
def test_malformed_line_names_file_and_line(line, message):
    text = f"# header\n\napp['ok']='1'\n{line}\napp['after']='2'\n"
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert info.value.path == "/home/cfg/config"
    assert info.value.lineno == 4
    assert info.value.message == message
    assert str(info.value) == f"/home/cfg/config:4: {message}"


def test_declare_forms_are_accepted():
    text = "declare -A app network\ndeclare -gA billing  # global\n  declare -A x\n"
    assert parse(text).values() == {}
    assert parse(text).render() == text


def test_tilde_is_refused_where_bash_would_expand_it():
    with pytest.raises(ConfigError) as info:
        parse("app['dir']=~/billing\n")
    assert info.value.message == "'~' would be expanded by bash; quote the value with '"
    with pytest.raises(ConfigError):
        parse("app['path']=/bin:~/bin\n")
    # Quoted, or not at the start of a word, it is literal in bash too.
    assert parse("app['dir']='~/billing'\napp['x']=a~b\n").values() == {
        ("app", "dir"): "~/billing",
        ("app", "x"): "a~b",
    }


def test_load_reports_a_missing_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        ConfigFile.load(tmp_path / "nope")
    assert str(info.value) == f"{tmp_path / 'nope'}: file not found"


def test_load_reports_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "config"
    path.write_bytes("app['name']='Связь'\n".encode("cp1251"))
    with pytest.raises(ConfigError) as info:
        ConfigFile.load(path)
    assert str(info.value).startswith(f"{path}: not UTF-8 text")


def test_path_defaults_to_a_placeholder():
    with pytest.raises(ConfigError) as info:
        ConfigFile.parse("garbage\n")
    assert str(info.value).startswith("<config>:1: ")


# -- validation of known keys ----------------------------------------------------------------


DIGITS = "must be a whole number from 1 to 18"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "network['api.allowed_ips']='127.0.0.1 10.0.0.0/33'",
            "network['api.allowed_ips']: '10.0.0.0/33' is not an IP address or CIDR network",
        ),
        (
            "network['api.allowed_ips']='127.0.0.1,::1'",
            "network['api.allowed_ips']: '127.0.0.1,::1' is not an IP address or CIDR network",
        ),
        (
            "network['api.allowed_ips']='localhost'",
            "network['api.allowed_ips']: 'localhost' is not an IP address or CIDR network",
        ),
        (
            "network['api.trusted_proxies']='10.0.0.256'",
            "network['api.trusted_proxies']: '10.0.0.256' is not an IP address or CIDR network",
        ),
        (
            "network['api.context']='web Cabinet'",
            "network['api.context']: 'Cabinet' is not a context name "
            "(lowercase letters, digits, _)",
        ),
        (
            "app['django.loglevel']='INFO'",
            "app['django.loglevel']: must be one of debug, info, warning, error, critical, "
            "not 'INFO'",
        ),
        ("app['time_zone']='Mars/Olympus'", "app['time_zone']: unknown time zone 'Mars/Olympus'"),
        ("app['time_zone']='../../etc/passwd'",
         "app['time_zone']: unknown time zone '../../etc/passwd'"),
        (
            "app['db.url']='mysql://root@localhost/billing'",
            "app['db.url']: must be empty (SQLite in var/) or "
            "postgresql://user:pass@host:port/db",
        ),
        (
            "app['db.url']='postgresql://u:p@db:port/billing'",
            "app['db.url']: must be empty (SQLite in var/) or "
            "postgresql://user:pass@host:port/db",
        ),
        ("app['language']='de'", "app['language']: must be one of ru, en, not 'de'"),
        ("app['currency']='rub'", "app['currency']: must be an ISO 4217 code such as RUB"),
        ("app['contract.prefix']='БИЛЛ'",
         "app['contract.prefix']: up to 16 Latin letters, digits, - or _"),
        ("app['contract.digits']='0'", "app['contract.digits']: " + DIGITS),
        ("app['contract.digits']='x'", "app['contract.digits']: " + DIGITS),
    ],
)
def test_invalid_known_value_names_the_line(line, message):
    text = f"declare -A app\n# comment\n{line}\n"
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert str(info.value) == f"/home/cfg/config:3: {message}"


def test_validation_names_the_line_that_is_in_force():
    text = "app['language']='de'\napp['language']='en'\napp['language']='xx'\n"
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert info.value.lineno == 3
    # A bad value overridden by a later good one is not in force: accepted.
    assert parse("app['language']='de'\napp['language']='en'\n").get("app", "language") == "en"


def test_valid_known_values():
    text = (
        "network['api.allowed_ips']='127.0.0.1 ::1 10.0.0.0/8 2001:db8::/32 192.168.1.7/24'\n"
        "network['api.trusted_proxies']=''\n"
        "network['api.context']='web cabinet api_1c'\n"
        "app['django.loglevel']='info'\n"
        "app['time_zone']='Asia/Vladivostok'\n"
        "app['db.url']='postgresql://billing:p%40ss@127.0.0.1:5432/billing'\n"
        "app['language']='en'\n"
        "app['currency']='USD'\n"
        "app['contract.prefix']='ACME-'\n"
        "app['contract.digits']='5'\n"
        "app['unknown.key']='anything at all'\n"
    )
    config = parse(text)
    assert config.get("app", "db.url") == "postgresql://billing:p%40ss@127.0.0.1:5432/billing"
    assert config.get("app", "unknown.key") == "anything at all"


@pytest.mark.parametrize("key", ["promised.amount", "vblock.cost"])
@pytest.mark.parametrize("value", ["1e13", "1" * 30, "1000000000000", "-1"])
def test_amount_keys_past_the_column_are_refused(key, value):
    config = parse(SAMPLE)
    with pytest.raises(ConfigError) as info:
        config.set("billing", key, value)
    assert info.value.message == (
        f"billing['{key}']: must be an amount such as 300 or 300.00 (not negative, 2 decimals)")
    assert config.render() == SAMPLE
