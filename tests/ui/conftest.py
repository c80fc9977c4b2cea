"""Fixtures for driving the till window with key events, offscreen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from posloyalty.services import members
from posloyalty.services.members import NewMember
from posloyalty.services.views import MemberView
from till_helpers import KeyClock


@dataclass
class Recorder:
    """What the window reported, in order."""

    attached: list[MemberView] = field(default_factory=list)
    sales: list = field(default_factory=list)


@pytest.fixture
def enrol(till) -> Callable[..., MemberView]:
    def make(name: str, phone: str | None = None, **extra) -> MemberView:
        if phone is None and "email" not in extra:
            extra["email"] = f"{name.split()[0].lower()}@example.com"
        return members.enrol_member(till, NewMember(name=name, phone=phone, **extra))

    return make


@pytest.fixture
def lookups(monkeypatch) -> list[str]:
    """Every input the window submits to ``lookup_input``, in order."""
    calls: list[str] = []
    real = members.lookup_input

    def counting(ctx, raw):
        calls.append(raw)
        return real(ctx, raw)

    monkeypatch.setattr(members, "lookup_input", counting)
    return calls


@pytest.fixture
def key_clock() -> KeyClock:
    return KeyClock()


@pytest.fixture
def make_window(qtbot, till) -> Iterator[Callable[..., object]]:
    from posloyalty.ui.window import TillWindow

    windows = []

    def make(**kwargs):
        window = TillWindow(till, **kwargs)
        qtbot.addWidget(window)
        window.show()
        window.start()
        window.recorder = Recorder()
        window.member_attached.connect(window.recorder.attached.append)
        window.sale_recorded.connect(window.recorder.sales.append)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


@pytest.fixture
def window(make_window):
    return make_window()
