"""``jupyter-mlops models list | show | register | contract | bless | shadow | promote-shadow |
pin | unpin | rollback | alias | tag | describe``: the model registry."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import bounds
from ..entities import iso_time as iso
from ..exit_codes import ExitCode
from ..pipeline.monitor_spec import MAX_MIN_BATCHES
from .common import clock as _clock
from .common import command_tracker, integer
from .common import out as _out

EXIT_OK = int(ExitCode.OK)


def _model_line(m: Any) -> str:
    metrics = "  ".join(f"{k}={v:.4g}" for k, v in list(m.metrics.items())[:4])
    aliases = "".join(f"  @{a}" for a in m.aliases)
    return f"{m.ref:24} {m.stage.value:10} run {m.run_id[:8]}  {m.size:>9,} B  {metrics}{aliases}"


def _version_lines(m: Any, gates: Any) -> list[str]:
    """A version's line, then its gate failures, tags and description, indented."""
    lines = [_model_line(m)]
    if gates is not None and gates.failed_text:
        lines.append(f"    gates: {gates.failed_text}")
    if m.tags:
        lines.append("    tags: " + ", ".join(f"{k}={v}" for k, v in m.tags.items()))
    if m.description:
        first, *rest = m.description.splitlines() or [""]
        lines.append(f"    description: {first}" + (" …" if rest else ""))
    return lines


def _pin_line(pin: Any) -> str:
    by = f" by {pin.by}" if pin.by else ""
    until = f" until {iso(pin.until)}" if pin.until is not None else ""
    why = f": {pin.reason}" if pin.reason else ""
    return f"{pin.describe()}{by} since {iso(pin.since)}{until}{why}"


def cmd_models(args: argparse.Namespace) -> int:
    from ..registry import ModelRegistry, parse_until

    store = command_tracker(args).store
    registry = ModelRegistry(store, clock=_clock())
    action = args.action
    until = getattr(args, "until", None)
    until_ts = parse_until(until, registry.clock()) if until else None
    if action == "list":
        _list_models(args, registry)
    elif action == "show":
        _show_model(args, registry)
    elif action == "bless":
        return _bless(args, registry)
    elif action in ("register", "contract"):
        _contract_command(args, registry)
    elif action in ("alias", "tag", "describe"):
        _edit_version(args, command_tracker(args))
    elif action == "shadow":
        m = registry.shadow(args.ref, args.reason)
        _out(args, m, f"{m.ref} is now in shadow: scored by mlops.predict, not served")
    elif action == "promote-shadow":
        from ..monitoring.shadow import describe_evidence, promote_shadow

        m, ev = promote_shadow(args.ref, args.min_batches, args.metric, store=store)
        _out(args, {"model": m, "evidence": ev}, f"{m.ref} is now blessed: {describe_evidence(ev)}")
    elif action == "pin":
        return _pin(args, registry, until_ts)
    elif action == "unpin":
        gone = registry.unpin(args.name, args.reason)
        text = f"{args.name} was not pinned" if gone is None else f"{args.name}: unpinned"
        _out(args, {"unpinned": gone}, text)
    else:
        old, new = registry.rollback(args.name, args.to, args.reason, until_ts)
        _out(
            args,
            {"archived": old, "blessed": new},
            f"rolled back {args.name}: {old.ref} archived, {new.ref} blessed again and pinned"
            f" (runs register candidates until `jupyter-mlops models unpin {args.name}`)",
        )
    return EXIT_OK


def _pin(args: argparse.Namespace, registry: Any, until_ts: float | None) -> int:
    """Pinning a named version blesses it: gate-failed versions follow ``_bless``'s rule."""
    from ..exceptions import FailedGatesError

    try:
        pin = registry.pin(
            args.name, args.version, args.reason, until_ts, override_gates=args.override_gates
        )
    except FailedGatesError as e:
        print(f"jupyter-mlops: error: {e}", file=sys.stderr)
        return int(ExitCode.GATE)
    _out(args, pin, f"{args.name}: {_pin_line(pin)}; runs register candidates only")
    return EXIT_OK


def _bless(args: argparse.Namespace, registry: Any) -> int:
    """A bless refused for failed gates exits 3 (a gate failed), with the way to override."""
    from ..exceptions import FailedGatesError

    try:
        m = registry.bless(
            args.ref, args.reason, force=args.force, override_gates=args.override_gates
        )
    except FailedGatesError as e:
        print(f"jupyter-mlops: error: {e}", file=sys.stderr)
        return int(ExitCode.GATE)
    _out(args, m, f"{m.ref} is now blessed")
    return EXIT_OK


def _contract_command(args: argparse.Namespace, registry: Any) -> None:
    """``models register RUN[:ARTIFACT] NAME`` and ``models contract NAME@V [--policy P]``."""
    from ..validation.registration import (
        contract_summary,
        register_run_model,
        set_contract_policy,
        split_run_ref,
    )

    if args.action == "register":
        run_id, artifact = split_run_ref(args.run)
        run = registry.store.get_run(run_id)
        m = register_run_model(args.name, run, artifact, registry)
        _out(args, m, f"{m.ref} registered from run {m.run_id[:8]} (a candidate)")
        return
    if args.policy is not None:
        m, _ = set_contract_policy(args.ref, args.policy, registry=registry)
    else:
        m = registry.get(args.ref)
    summary = contract_summary(registry.store, m)
    _out(args, {"model": m.ref, **summary}, f"{m.ref}: " + _contract_text(summary))


def _contract_text(summary: dict[str, Any]) -> str:
    """``policy reject; 3 columns: a: float, b: int, no nulls, …`` in one line."""
    from ..validation.signature import Signature

    found = summary["signature"]
    if found is None:
        return f"policy {summary['policy']}; no signature known (input is not checked)"
    sig = Signature.from_dict(found)
    shown = "; ".join(c.describe() for c in sig.columns[:20])
    more = f"; … {len(sig.columns) - 20} more" if len(sig.columns) > 20 else ""
    extra = "" if sig.closed else ", other columns allowed"
    return (
        f"policy {summary['policy']}; {len(sig.columns)} column(s) from the {sig.source}"
        f"{extra}: {shown}{more}"
    )


def _recorded_contract(store: Any, m: Any) -> str | None:
    """A version's recorded contract in one line (``models show``), or None."""
    import json

    row = store.model_signature(m.name, m.version) if hasattr(store, "model_signature") else None
    if row is None:
        return None
    return _contract_text({"policy": row[1], "signature": json.loads(row[0])})


def _edit_version(args: argparse.Namespace, tracker: Any) -> None:
    """``models alias | tag | describe``: one edit of a version, which is then shown."""
    from ..model_metadata import parse_tag_assignment
    from ..views import alias_model, describe_model, tag_model

    if args.action == "alias":
        m = alias_model(tracker, args.ref, args.alias, delete=args.delete)
        text = f"{m.name}@{args.alias} " + ("removed" if args.delete else f"-> v{m.version}")
    elif args.action == "tag":
        tags = dict(parse_tag_assignment(t) for t in args.tags)
        m = tag_model(tracker, args.ref, tags, args.delete or [])
        shown = ", ".join(f"{k}={v}" for k, v in m.tags.items()) or "none"
        text = f"{m.ref} tags: {shown}"
    else:
        m = describe_model(tracker, args.ref, args.text)
        text = f"{m.ref}: description " + ("set" if m.description else "cleared")
    _out(args, m, text)


def _list_models(args: argparse.Namespace, registry: Any) -> None:
    """Every model (``GET models``), or the versions of one (``GET models/NAME``)."""
    from ..views import model_detail, model_list

    tracker = command_tracker(args)
    if args.name:
        detail = model_detail(tracker, args.name, registry.clock)
        _out(args, detail, "\n".join(_model_line(m) for m in detail.versions))
        return
    found = model_list(tracker, registry.clock)
    lines = [
        f"{_model_line(s.latest)}  ({s.versions} version{'s' if s.versions != 1 else ''}"
        + (f", blessed v{s.blessed}" if s.blessed is not None else "")
        + (f", pinned v{s.pinned}" if s.pinned is not None else "")
        + ")"
        for s in found.models
    ]
    _out(args, found, "\n".join(lines) or "no models registered yet")


def _show_model(args: argparse.Namespace, registry: Any) -> None:
    from ..views import model_detail

    detail = model_detail(command_tracker(args), args.ref, registry.clock)
    gates = {g.version: g for g in detail.gates}
    lines = []
    for m in detail.versions:
        lines += _version_lines(m, gates.get(m.version))
        contract = _recorded_contract(registry.store, m)
        lines += [f"    contract: {contract}"] if contract else []
    text = (
        "\n".join(lines)
        + (f"\npinned: {_pin_line(detail.pin)}" if detail.pin is not None else "")
        + "\nhistory:\n"
        + "\n".join(
            f"  {e.action:9} {e.name}@{e.version}  by {e.actor}  {e.reason or ''}"
            for e in detail.events
        )
    )
    # The monitor's actions (retrain, rollback, notify) belong to the model's history too.
    if detail.monitor_actions:
        text += "\nmonitor actions:\n" + "\n".join(
            f"  {a.status:9} {a.description}" for a in detail.monitor_actions
        )
    _out(args, detail, text)


def add_model_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    m = sub.add_parser("models", parents=[common], help="The model registry.")
    msub = m.add_subparsers(dest="action", required=True, parser_class=type(m))
    ml = msub.add_parser("list", parents=[common])
    ml.add_argument("name", nargs="?")
    ms = msub.add_parser("show", parents=[common])
    ms.add_argument("ref", metavar="NAME[@VERSION]")
    mb = msub.add_parser("bless", parents=[common])
    mb.add_argument("ref", metavar="NAME@VERSION")
    mb.add_argument("--reason")
    mb.add_argument(
        "--force", action="store_true", help="bless a pinned model; the pin moves to this version"
    )
    mb.add_argument(
        "--override-gates",
        action="store_true",
        help="bless a version whose gates failed (needs --reason, recorded with the failures)",
    )
    msh = msub.add_parser("shadow", parents=[common])
    msh.add_argument("ref", metavar="NAME@VERSION")
    msh.add_argument("--reason")
    mps = msub.add_parser("promote-shadow", parents=[common])
    mps.add_argument("ref", metavar="NAME@VERSION")
    mps.add_argument(
        "--min-batches",
        type=integer("--min-batches", 1, MAX_MIN_BATCHES),
        default=3,
        help="labelled batches, served by another version, the shadow must win (and lose none)",
    )
    mps.add_argument("--metric")
    mreg = msub.add_parser(
        "register", parents=[common], help="register a model a run logged, as a candidate"
    )
    mreg.add_argument("run", metavar="RUN_ID[:ARTIFACT]", help="a run id (a prefix will do)")
    mreg.add_argument("name", metavar="NAME", help="the model's name")
    mc = msub.add_parser(
        "contract", parents=[common], help="show a version's input contract, or set its policy"
    )
    mc.add_argument("ref", metavar="NAME[@VERSION]")
    mc.add_argument(
        "--policy",
        choices=("reject", "coerce", "warn"),
        help="what input that breaks the contract gets: refused (default), converted, or a warning",
    )
    pins = _add_pin_commands(msub, common)
    edits = _add_edit_commands(msub, common)
    for sp in (ml, ms, mreg, mc, mb, msh, mps, *pins, *edits):
        sp.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_models, read_only=True)  # bless/rollback need an existing store too


def _add_pin_commands(msub: Any, common: argparse.ArgumentParser) -> list[Any]:
    until_help = "the pin expires then: a duration (3d, 12h) or an ISO 8601 time"
    mr = msub.add_parser(
        "rollback",
        parents=[common],
        help="re-bless the previous version and pin it: runs register candidates until unpin",
    )
    mr.add_argument("name")
    mr.add_argument("--to", type=integer("--to", 1, bounds.MAX_VERSION), metavar="VERSION")
    mr.add_argument("--reason")
    mr.add_argument("--until", metavar="DURATION|TIME", help=until_help)
    mpin = msub.add_parser(
        "pin", parents=[common], help="hold NAME: runs register candidates but do not bless"
    )
    mpin.add_argument("name")
    mpin.add_argument(
        "--version",
        type=integer("--version", 1, bounds.MAX_VERSION),
        help="the version held (default: the blessed one)",
    )
    mpin.add_argument("--until", metavar="DURATION|TIME", help=until_help)
    mpin.add_argument("--reason")
    mpin.add_argument(
        "--override-gates",
        action="store_true",
        help="pin a --version whose gates failed (needs --reason; recorded with the failures)",
    )
    mun = msub.add_parser("unpin", parents=[common], help="let runs bless NAME again")
    mun.add_argument("name")
    mun.add_argument("--reason")
    return [mr, mpin, mun]


def _add_edit_commands(msub: Any, common: argparse.ArgumentParser) -> list[Any]:
    """``alias``, ``tag`` and ``describe``: what users attach to a version (MLflow's aliases,
    version tags and descriptions). A version is ``NAME@VERSION`` or ``NAME@ALIAS``."""
    ma = msub.add_parser(
        "alias",
        parents=[common],
        help="point ALIAS (e.g. champion) at a version, moving it; NAME@ALIAS then names it",
    )
    ma.add_argument("ref", metavar="NAME@VERSION")
    ma.add_argument("alias", metavar="ALIAS")
    ma.add_argument(
        "--delete", action="store_true", help="remove ALIAS (REF may then be just NAME)"
    )
    mt = msub.add_parser("tag", parents=[common], help="set or delete tags of a version")
    mt.add_argument("ref", metavar="NAME@VERSION")
    mt.add_argument("tags", nargs="*", metavar="KEY=VALUE")
    mt.add_argument("--delete", action="append", metavar="KEY", help="delete tag KEY")
    md = msub.add_parser("describe", parents=[common], help="set a version's description")
    md.add_argument("ref", metavar="NAME@VERSION")
    md.add_argument("text", metavar="TEXT", help='the description ("" clears it)')
    return [ma, mt, md]


__all__ = ["add_model_commands", "cmd_models"]
