"""Checks made before Qt starts, so a missing display or library gets a clear message.

Without them, Qt stops with "could not load the Qt platform plugin xcb" and a
list of plugins, which a shop owner cannot act on. This module imports no Qt.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)

# Libraries that Qt 6's xcb platform plugin loads, with the Debian and Ubuntu
# package of each. Read from ``ldd`` on PySide6 6.12's libqxcb.so and
# libQt6XcbQpa.so.6; Qt 6.5 and later need libxcb-cursor0 as well.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
}


class DisplayUnavailableError(Exception):
    """The till window cannot open here; the message names what to install or set."""


def _can_load(soname: str) -> bool:
    import ctypes  # only the xcb check needs it; offscreen starts skip the import

    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def chosen_platform(environ: Mapping[str, str]) -> str:
    """Return the Qt platform plugin that Qt will try first on this system.

    ``QT_QPA_PLATFORM`` may list fallbacks separated by ``;``; the first one is
    the one that fails loudly. Without it, Qt 6 on Linux uses Wayland in a
    Wayland session and xcb otherwise.
    """
    requested = environ.get("QT_QPA_PLATFORM", "").strip()
    if requested:
        return requested.split(";")[0].split(":")[0].strip()
    if sys.platform != "linux":
        return ""
    if environ.get("WAYLAND_DISPLAY") and (
        environ.get("XDG_SESSION_TYPE") == "wayland" or not environ.get("DISPLAY")
    ):
        return "wayland"
    return "xcb"


def missing_xcb_packages(can_load: Callable[[str], bool] | None = None) -> list[str]:
    """List the Debian packages whose libraries the xcb plugin needs and cannot load."""
    can_load = can_load or _can_load
    missing = [
        package for soname, package in XCB_LIBRARIES.items() if not can_load(soname)
    ]
    return sorted(set(missing))


def check_display(
    environ: Mapping[str, str] | None = None,
    can_load: Callable[[str], bool] | None = None,
) -> None:
    """Check that Qt can open a window, before ``QApplication`` is created.

    Raises:
        DisplayUnavailableError: there is no display and no platform is set, or
            the xcb plugin's system libraries are missing. The message names
            the packages and the command that installs them, or how to run
            offscreen.
    """
    env = os.environ if environ is None else environ
    if sys.platform != "linux":
        return
    platform = chosen_platform(env)
    explicit = bool(env.get("QT_QPA_PLATFORM", "").strip())
    if not explicit and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        raise DisplayUnavailableError(
            "no display found: DISPLAY and WAYLAND_DISPLAY are not set. Start the"
            " till from a desktop session, or run it without a screen with"
            " QT_QPA_PLATFORM=offscreen (for example with --screenshot FILE)"
        )
    if platform != "xcb":
        return
    missing = missing_xcb_packages(can_load)
    if missing:
        packages = " ".join(missing)
        logger.error("Qt xcb plugin cannot start, missing packages: %s", packages)
        raise DisplayUnavailableError(
            f"the till window needs system libraries that are not installed"
            f" ({packages}). Install them with: sudo apt-get install {packages}"
        )
