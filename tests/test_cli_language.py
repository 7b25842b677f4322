"""One language per message: the command line speaks app['language'] (Russian by default),
its own texts, argparse's, the config file's checks and the services' messages alike —
never "error: Идёт запуск…"."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.test_cli import ok, run

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
# English words of our own texts that must not appear in a Russian line (paths, keys,
# commands and values are written as they are in both languages).
ENGLISH_WORDS = re.compile(r"\b(error|warning|usage|home folder|is not|cannot|must be|"
                           r"options|did you mean|not a date|default)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def russian_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("lang") / "home"
    out = ok("init", "--home", str(home))  # no --language: the default
    assert out == f"Создана домашняя папка {home}\n"
    return home


def failures(home: Path) -> list[tuple[list[str], str]]:
    """Commands an operator gets wrong, each with what it printed (stdout + stderr)."""
    cases = [
        ["config", "set", "network", "api.alowed_ips", "10.0.0.1"],  # a typo: refused
        ["config", "set", "app", "time_zone", "Mars/Base"],  # a bad value
        ["config", "get", "app", "nothing"],
        ["bogus"],  # argparse
        ["serve", "--bind", "host:"],  # argparse, our type's text
        ["bill", "run", "--date", "yesterday"],  # a management command's error
        ["backup", "--out", str(home / "cfg")],  # a folder in the way
    ]
    printed = []
    for args in cases:
        done = run(*args, "--home", str(home))
        assert done.returncode != 0, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        printed.append((args, done.stdout + done.stderr))
    return printed


def test_a_russian_home_gets_every_message_in_russian(russian_home):
    for args, text in failures(russian_home):
        lines = [line for line in text.splitlines() if line.strip()]
        assert lines, args
        for line in lines:
            assert not ENGLISH_WORDS.search(line), (args, line)
        assert CYRILLIC.search(text), (args, text)
    # Help and usage too (argparse's own words among them).
    help_text = ok("--home", str(russian_home), "config", "--help")
    assert help_text.startswith("использование: asr-billing config")
    assert "показать эту справку и выйти" in help_text
    assert "показать, прочитать или изменить" not in help_text  # that is the parent's
    assert "вывести все действующие настройки" in help_text


def test_the_same_failures_in_english_have_no_russian_word(russian_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(russian_home, home)
    ok("config", "set", "app", "language", "en", "--home", str(home))
    for args, text in failures(home):
        assert not CYRILLIC.search(text), (args, text)
    assert ok("--home", str(home), "config", "--help").startswith("usage: asr-billing config")


def test_the_exact_russian_texts(russian_home):
    done = run("config", "set", "network", "api.alowed_ips", "1", "--home", str(russian_home))
    assert done.stderr == (
        "ошибка: asr-billing не читает ключ network['api.alowed_ips']; может быть, "
        "network['api.allowed_ips']? (docs/configuration.md; --force запишет его всё "
        "равно)\n")
    done = run("bogus", "--home", str(russian_home))
    assert done.stderr.splitlines()[-1].startswith(
        "asr-billing: ошибка: аргумент COMMAND: недопустимое значение: 'bogus' (возможны: ")


def test_init_language_chooses_a_new_homes_language(tmp_path):
    out = ok("init", "--language", "en", "--home", str(tmp_path / "h"))
    assert out == f"Created home folder {tmp_path / 'h'}\n"
    assert ok("config", "get", "app", "language", "--home", str(tmp_path / "h")) == "en\n"
    # An existing home keeps its language (init never rewrites cfg/config).
    out = ok("init", "--language", "ru", "--home", str(tmp_path / "h"))
    assert out == f"Using home folder {tmp_path / 'h'}\n"
    assert ok("config", "get", "app", "language", "--home", str(tmp_path / "h")) == "en\n"
    done = run("init", "--language", "de", "--home", str(tmp_path / "x"))
    assert done.returncode == 2 and "'de'" in done.stderr
    assert not (tmp_path / "x").exists()


def test_a_broken_config_still_names_its_language(russian_home, tmp_path):
    """The language is read leniently: a file broken elsewhere still chooses it, and the
    error about the file comes in that language."""
    home = tmp_path / "home"
    shutil.copytree(russian_home, home)
    config = home / "cfg" / "config"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "app['language']='ru'", "app['language']='en'") + "app['x']='unterminated\n",
        encoding="utf-8")
    done = run("check", "--home", str(home))
    assert done.returncode == 2
    assert done.stderr.endswith(": unterminated single quote\n"), done.stderr
    assert done.stderr.startswith("error: ")
