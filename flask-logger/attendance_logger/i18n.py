"""Every text the dashboard and its exports show a person, in their language.

The texts live in one catalogue per language, `messages/<language>.toml` (English is the
reference: every other catalogue has exactly its keys and placeholders, a test checks it). A
message is looked up by its dotted key and filled with named `{placeholders}`; a message that
depends on a count has a `one` and an `other` form, chosen by the language's plural rule.

The reader's language is the one their account chose on the settings page, else the best match
of the browser's Accept-Language, else English. Adding a language: copy `en.toml`, translate it,
and add its plural rule below.
"""
from __future__ import annotations

import string
import tomllib
from importlib import resources
from typing import Mapping

DEFAULT_LANGUAGE = "en"


def _english_plural(count: int) -> str:
    return "one" if count == 1 else "other"


def _french_plural(count: int) -> str:
    return "one" if count in (0, 1) else "other"  # CLDR: 0 and 1 take the singular in French


PLURAL_RULES = {"en": _english_plural, "fr": _french_plural}


def _flatten(table: Mapping, prefix: str = "") -> dict:
    """{"a": {"b": "x"}} -> {"a.b": "x"}; a table of only `one`/`other` is one plural message."""
    flat = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and set(value) - {"one", "other"}:
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = dict(value) if isinstance(value, Mapping) else value
    return flat


def load_catalogues() -> dict[str, dict]:
    folder = resources.files(__package__).joinpath("messages")
    catalogues = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            catalogues[entry.name[:-len(".toml")]] = _flatten(tomllib.loads(entry.read_text(encoding="utf-8")))
    return catalogues


CATALOGUES = load_catalogues()
LANGUAGES = tuple(sorted(CATALOGUES, key=lambda code: (code != DEFAULT_LANGUAGE, code)))


def placeholders(message: str | Mapping) -> set[str]:
    texts = message.values() if isinstance(message, Mapping) else [message]
    return {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}


class Translator:
    """The messages of one language: `t("key", name=value)`, `t.plural("key", n)`."""

    def __init__(self, language: str = DEFAULT_LANGUAGE):
        self.language = language if language in CATALOGUES else DEFAULT_LANGUAGE
        self._messages = CATALOGUES[self.language]
        self._english = CATALOGUES[DEFAULT_LANGUAGE]
        self._plural = PLURAL_RULES.get(self.language, _english_plural)

    def _message(self, key: str):
        message = self._messages.get(key, self._english.get(key))
        if message is None:
            raise KeyError(f"no message {key!r} in messages/{DEFAULT_LANGUAGE}.toml")
        return message

    def __call__(self, key: str, **values) -> str:
        message = self._message(key)
        if isinstance(message, Mapping):
            raise TypeError(f"message {key!r} depends on a count: use plural()")
        return message.format(**values) if values else message

    def plural(self, key: str, count: int, **values) -> str:
        message = self._message(key)
        return message[self._plural(count)].format(count=count, **values)

    def has(self, key: str) -> bool:
        return key in self._english


def best_language(account_choice: str | None, accept_languages) -> str:
    """The account's choice, else the best of the browser's Accept-Language, else English."""
    if account_choice in CATALOGUES:
        return account_choice
    if accept_languages is not None:
        match = accept_languages.best_match(LANGUAGES)
        if match:
            return match
    return DEFAULT_LANGUAGE
