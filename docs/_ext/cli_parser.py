"""The CLI's parser for sphinx-argparse, with its help texts made safe for reStructuredText.

sphinx-argparse reads help strings as reST, where the ``*`` of a cron example
(``'0 3 * * *'``) opens an emphasis that never closes; the CLI prints them as plain text, so
here every help, description and epilog is escaped once, and the parser is otherwise
``jupyter_mlops.cli.build_parser()`` itself.
"""

from __future__ import annotations

import argparse
import re

from jupyter_mlops.cli import build_parser

_SPECIAL = re.compile(r"([*`|_\\])")


def _escape(text: str | None) -> str | None:
    return None if text is None else _SPECIAL.sub(r"\\\1", text)


def _walk(p: argparse.ArgumentParser, seen: set[int]) -> None:
    """Escape each help once: subcommands share actions (``--store`` comes from one parent
    parser), and escaping one twice would double its backslashes."""
    if id(p) in seen:  # a subcommand listed under an alias too
        return
    seen.add(id(p))
    p.description, p.epilog = _escape(p.description), _escape(p.epilog)
    for action in p._actions:
        if id(action) in seen:
            continue
        seen.add(id(action))
        if action.help not in (None, argparse.SUPPRESS):
            action.help = _escape(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = _escape(choice.help)
            for sub in action.choices.values():
                _walk(sub, seen)


def parser() -> argparse.ArgumentParser:
    p = build_parser()
    _walk(p, set())
    return p
