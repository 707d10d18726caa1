"""The rules of what users attach to a model version: aliases, tags and a description.

- An **alias** (``champion``, ``challenger``) names one version of a model and moves when set
  again; ``NAME@ALIAS`` works wherever ``NAME@VERSION`` does. So it can never be read as a
  version: it starts with a letter, is not ``v`` followed by digits (how versions are printed:
  ``v3``) nor ``latest``, and holds letters, digits, ``_`` and ``-``, at most 64 of them.
- A **tag** is a key (letters, digits, ``_ . : / -``, at most 128) and a text value (at most
  1,000 characters, one line); a version holds at most 100 tags.
- A **description** is text of at most 5,000 characters (line breaks allowed); empty clears it.

Every check raises :class:`ValidationError` with one line naming the value and the rule, and
refuses text a database cannot store (a NUL, a lone surrogate).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .exceptions import ValidationError

ALIAS_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
MAX_ALIAS_LENGTH = 64
_VERSION_LIKE = re.compile(r"^[vV][0-9]+$")
RESERVED_ALIASES = ("latest",)

TAG_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 1000
MAX_TAGS = 100  # per version
MAX_DESCRIPTION_LENGTH = 5000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _shown(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _storable(value: str, field: str) -> None:
    if "\x00" in value:
        raise ValidationError(f"{field} contains a NUL character; remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{field} is not valid UTF-8 text (a lone surrogate)") from None


def _check_token(
    value: Any, what: str, example: str, limit: int, pattern: re.Pattern[str], rule: str
) -> str:
    """``value`` if it is non-empty text of at most ``limit`` characters matching ``pattern``;
    ``what`` ("alias", "tag key") names it in the one-line error, ``rule`` says what to use."""
    if not isinstance(value, str) or not value:
        article = "An" if what[0] in "aeiou" else "A"
        raise ValidationError(
            f"{article} {what} must be text such as {example!r}, got {_shown(value)}"
        )
    label = what[0].upper() + what[1:]
    if len(value) > limit:
        raise ValidationError(
            f"{label} {_shown(value)} is {len(value)} characters long; the limit is {limit}"
        )
    if not pattern.match(value):
        raise ValidationError(f"{label} {_shown(value)} is not valid; use {rule}")
    return value


def check_alias(value: Any) -> str:
    """``value`` if it is a valid alias (see the module docstring)."""
    _check_token(
        value,
        "alias",
        "champion",
        MAX_ALIAS_LENGTH,
        ALIAS_PATTERN,
        "letters, digits, '_' and '-', starting with a letter (e.g. champion), so it cannot be "
        "read as a version number",
    )
    if _VERSION_LIKE.match(value) or value.lower() in RESERVED_ALIASES:
        raise ValidationError(
            f"Alias {value!r} reads like a version or is reserved; pick a name such as "
            "'champion' or 'challenger'"
        )
    return value


def check_tag_key(value: Any) -> str:
    return _check_token(
        value,
        "tag key",
        "owner",
        MAX_TAG_KEY_LENGTH,
        TAG_KEY_PATTERN,
        "letters, digits and '_ . : / -', starting with a letter or digit",
    )


def check_tag_value(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"The value of tag {key!r} must be text, got {_shown(value)}")
    if len(value) > MAX_TAG_VALUE_LENGTH:
        raise ValidationError(
            f"The value of tag {key!r} is {len(value)} characters long; the limit is "
            f"{MAX_TAG_VALUE_LENGTH}"
        )
    _storable(value, f"The value of tag {key!r}")
    if _CONTROL.search(value):
        raise ValidationError(f"The value of tag {key!r} contains a control character or newline")
    return value


def check_tags(tags: Any) -> dict[str, str]:
    """A mapping of tag keys to values, each checked; at most :data:`MAX_TAGS` of them."""
    if not isinstance(tags, Mapping) or not tags:
        raise ValidationError('Give at least one tag as KEY=VALUE (REST: {"set": {"k": "v"}})')
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"{len(tags)} tags given; a version holds at most {MAX_TAGS}")
    return {check_tag_key(k): check_tag_value(k, v) for k, v in tags.items()}


def check_description(value: Any) -> str | None:
    """The description to store, or None to clear it (empty or blank text)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"A description must be text, got {_shown(value)}")
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError(
            f"The description is {len(value)} characters long; the limit is "
            f"{MAX_DESCRIPTION_LENGTH}"
        )
    _storable(value, "The description")
    return value if value.strip() else None


def parse_tag_assignment(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` (the CLI's form) as (key, value), both checked."""
    key, sep, value = text.partition("=")
    if not sep:
        raise ValidationError(f"Write a tag as KEY=VALUE, e.g. owner=ana; got {_shown(text)}")
    return check_tag_key(key), check_tag_value(key, value)
