"""Model pins on every backend: a rollback (or ``models pin``) holds a model, automated blesses
become candidates with a ``held`` event, a manual bless is refused unless forced, an expiry is
judged by the injected clock, and a pin racing blesses from other processes is never passed."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_mlops.entities import ModelStage, to_jsonable
from jupyter_mlops.exceptions import ModelPinnedError, ValidationError
from jupyter_mlops.registry import ModelRegistry, parse_until
from jupyter_mlops.store import RunStore
from tests.store.test_registry_tables import _race, _register

T0 = 1_800_000_000.0  # the injected clock's start: no test reads the wall clock


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _stages(store: RunStore) -> dict[int, ModelStage]:
    return {m.version: m.stage for m in store.list_models("m")}


def test_a_rollback_pins_and_runs_then_register_candidates(store: RunStore) -> None:
    registry = ModelRegistry(store, clock=Clock())
    for i in range(3):
        _register(store, f"r{i}")
    store.bless_model("m", 1)
    store.bless_model("m", 2)
    old, new = registry.rollback("m", reason="v2 is bad")
    assert (old.version, new.version) == (2, 1)
    pin = registry.pin_of("m")
    assert pin is not None and (pin.version, pin.origin, pin.reason) == (1, "rollback", "v2 is bad")
    assert pin.since.timestamp() == T0 and pin.until is None
    assert registry.offer(store.get_model("m", 3), reason="passed gates") == pin
    assert _stages(store) == {1: ModelStage.BLESSED, 2: ModelStage.ARCHIVED,
                              3: ModelStage.CANDIDATE}  # fmt: skip
    events = [(e.version, e.action, e.reason) for e in store.model_events("m")]
    assert events[-3:] == [
        (1, "rollback", "v2 is bad"),
        (1, "pin", "pinned by rollback: v2 is bad"),
        (3, "held", "pinned by rollback at v1; not blessed"),
    ]
    with pytest.raises(ModelPinnedError) as refused:
        registry.bless("m@3")
    message = str(refused.value)
    assert "\n" not in message and "pinned by rollback at v1" in message
    assert "jupyter-mlops models unpin m" in message and "--force" in message
    assert store.get_model("m").version == 1
    gone = registry.unpin("m", reason="fixed")
    assert gone is not None and gone.version == 1 and registry.pin_of("m") is None
    assert registry.unpin("m") is None  # nothing left to remove
    assert registry.offer(store.get_model("m", 3)) is None
    assert store.get_model("m").version == 3
    assert [(e.version, e.action) for e in store.model_events("m")][-3:] == [
        (1, "unpin"), (1, "archive"), (3, "bless")
    ]  # fmt: skip


def test_a_forced_bless_moves_the_pin(store: RunStore) -> None:
    registry = ModelRegistry(store, clock=Clock())
    for i in range(3):
        _register(store, f"r{i}")
    store.bless_model("m", 1)
    registry.pin("m", reason="release freeze")  # at the blessed version
    assert registry.pin_of("m").version == 1  # type: ignore[union-attr]
    mv = registry.bless("m@3", "hotfix", force=True)
    assert mv.stage is ModelStage.BLESSED
    pin = registry.pin_of("m")
    assert pin is not None and (pin.version, pin.origin) == (3, "pin")
    assert registry.offer(store.get_model("m", 2)) == pin  # still pinned, now at v3
    assert store.get_model("m").version == 3


def test_a_pin_expires_by_the_injected_clock(store: RunStore) -> None:
    clock = Clock()
    registry = ModelRegistry(store, clock=clock)
    for i in range(3):
        _register(store, f"r{i}")
    store.bless_model("m", 1)
    until = parse_until("2h", clock())
    assert until == T0 + 7200
    pin = registry.pin("m", 1, until=until)
    assert pin.until is not None and pin.until.timestamp() == until
    assert to_jsonable(pin)["until"].startswith("2027-01-15T10:00")
    assert registry.offer(store.get_model("m", 2)) is not None
    clock.now = until - 1
    assert registry.pin_of("m") is not None
    clock.now = until
    assert registry.pin_of("m") is None  # expired: no pin, though its row is still there
    assert store.model_pin("m") is not None
    assert registry.offer(store.get_model("m", 3)) is None
    assert store.get_model("m").version == 3


def test_until_takes_a_duration_or_a_time_and_refuses_the_past() -> None:
    assert parse_until("2026-12-24T00:00Z", 0.0) == 1_798_070_400.0
    assert parse_until("1d", T0) == T0 + 86400
    with pytest.raises(ValidationError, match="not in the future"):
        parse_until("2020-01-01T00:00", T0)
    with pytest.raises(ValidationError, match="Invalid --until 'soon'"):
        parse_until("soon", T0)


def test_pin_at_a_version_blesses_it_and_unknown_names_say_so(store: RunStore) -> None:
    registry = ModelRegistry(store, clock=Clock())
    _register(store)
    _register(store)
    with pytest.raises(LookupError, match="no blessed version"):
        registry.pin("m")
    with pytest.raises(LookupError, match="no version 5"):
        registry.pin("m", 5)
    with pytest.raises(LookupError, match="No model named 'x'"):
        registry.unpin("x")
    pin = registry.pin("m", 2, reason="freeze")
    assert store.get_model("m").version == pin.version == 2
    assert [e.action for e in store.model_events("m")][-2:] == ["bless", "pin"]


@pytest.mark.slow
def test_a_pin_racing_offers_from_other_processes_is_never_passed(
    store: RunStore, tmp_path: Path
) -> None:
    for i in range(40):
        _register(store, f"r{i}")
    store.bless_model("m", 1)
    offers = [",".join(str(v) for v in range(k, 41, 3)) for k in (2, 3, 4)]
    _race(tmp_path, [*(("offer", o) for o in offers), ("pin", "4")])  # after 3 offers blessed
    events = store.model_events("m")
    pinned_at = next(i for i, e in enumerate(events) if e.action == "pin")
    # In commit order: after the pin, every offer was held, none blessed.
    after = [e.action for e in events[pinned_at + 1 :]]
    assert set(after) <= {"held"}
    blessed = [e.version for e in events[:pinned_at] if e.action == "bless"]
    assert len(blessed) >= 4
    pin = store.model_pin("m")
    assert pin is not None and pin.version == blessed[-1] == store.get_model("m").version
    assert len(after) + len(blessed) == 40  # every offer either blessed or held
