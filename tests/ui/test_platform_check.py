"""Messages for a missing display or missing X11 libraries, before Qt starts."""

from __future__ import annotations

import pytest

from posloyalty.ui import platform_check
from posloyalty.ui.platform_check import (
    XCB_LIBRARIES,
    DisplayUnavailableError,
    check_display,
    chosen_platform,
)

MISSING = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0"}


def _loader_without(missing: set[str]):
    def can_load(soname: str) -> bool:
        assert soname in XCB_LIBRARIES
        return soname not in missing

    return can_load


def _no_library_check(soname: str) -> bool:
    raise AssertionError(f"library {soname} checked for a platform other than xcb")


def test_missing_xcb_libraries_are_named():
    with pytest.raises(DisplayUnavailableError) as caught:
        check_display({"DISPLAY": ":0"}, _loader_without(MISSING))

    message = str(caught.value)
    expected = "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"
    assert f"sudo apt-get install {expected}" in message
    assert "libxcb-image0" not in message


def test_complete_xcb_passes():
    check_display({"DISPLAY": ":0"}, _loader_without(set()))


def test_no_display_explains_offscreen():
    with pytest.raises(DisplayUnavailableError) as caught:
        check_display({}, _no_library_check)

    assert "no display found" in str(caught.value)
    assert "QT_QPA_PLATFORM=offscreen" in str(caught.value)


@pytest.mark.parametrize("platform", ["offscreen", "minimal", "wayland"])
def test_other_platforms_skip_xcb_check(platform):
    check_display({"QT_QPA_PLATFORM": platform}, _no_library_check)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({"QT_QPA_PLATFORM": "wayland;xcb"}, "wayland", id="list"),
        pytest.param({"QT_QPA_PLATFORM": "xcb:foo=1"}, "xcb", id="options"),
        pytest.param({"DISPLAY": ":0"}, "xcb", id="x11"),
        pytest.param(
            {
                "WAYLAND_DISPLAY": "wayland-0",
                "XDG_SESSION_TYPE": "wayland",
                "DISPLAY": ":0",
            },
            "wayland",
            id="wayland-session",
        ),
    ],
)
def test_chosen_platform(environ, expected):
    assert chosen_platform(environ) == expected


def test_till_command_names_missing_packages(cli, monkeypatch):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(platform_check, "_can_load", _loader_without(MISSING))

    result = cli("till")

    assert result.exit_code == 1
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4" in result.stderr
    assert "Traceback" not in result.stderr


def test_till_command_without_display(cli, monkeypatch):
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)

    result = cli("till")

    assert result.exit_code == 1
    assert "QT_QPA_PLATFORM=offscreen" in result.stderr
