"""Starting the Qt application around the till window, and saving screenshots."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QLibraryInfo, QLocale, QTimer, QTranslator
from PySide6.QtWidgets import QApplication

from posloyalty.services.context import TillContext
from posloyalty.ui.window import TillWindow

logger = logging.getLogger(__name__)

BASE_FONT_POINTS = 15
# A screenshot is taken when the window has had no pending task for this long.
SCREENSHOT_SETTLE_MS = 100
SCREENSHOT_TIMEOUT_MS = 15_000
TRANSLATIONS_DIR = Path(__file__).resolve().parents[3] / "resources" / "translations"


@dataclass(frozen=True)
class StartOptions:
    """Options of ``till`` beyond opening the window.

    Attributes:
        screenshot: save a grab of the window to this PNG file and exit.
        lookup: input to submit before the screenshot, as if it were scanned.
        sale: amount to record for the member found by ``lookup``.
    """

    screenshot: Path | None = None
    lookup: str | None = None
    sale: str | None = None


def _install_translators(app: QApplication, locale_name: str) -> None:
    locale = QLocale(locale_name)
    qt_translator = QTranslator(app)
    if qt_translator.load(
        locale,
        "qtbase",
        "_",
        QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath),
    ):
        app.installTranslator(qt_translator)
    own = QTranslator(app)
    if own.load(locale, "posloyalty", "_", str(TRANSLATIONS_DIR)):
        app.installTranslator(own)
    else:
        logger.debug("no posloyalty translation for %s", locale_name)


def _show_errors_in_window(window: TillWindow) -> None:
    # An exception escaping a Qt callback would print a traceback, so log it
    # and tell the cashier in the window instead.
    def hook(
        kind: type[BaseException],
        error: BaseException,
        trace: TracebackType | None,
    ) -> None:
        logger.error(
            "unhandled error in the till window", exc_info=(kind, error, trace)
        )
        window.show_message(window.service_text(error), "error")

    sys.excepthook = hook


class _Screenshot:
    """Waits until the window is idle, saves its grab and quits the application."""

    def __init__(self, app: QApplication, window: TillWindow, path: Path) -> None:
        self._app = app
        self._window = window
        self._path = path
        self._quiet_ms = 0
        self._waited_ms = 0
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def _poll(self) -> None:
        self._waited_ms += self._timer.interval()
        busy = not self._window.runner.is_idle()
        self._quiet_ms = 0 if busy else self._quiet_ms + self._timer.interval()
        if self._quiet_ms < SCREENSHOT_SETTLE_MS and (
            self._waited_ms < SCREENSHOT_TIMEOUT_MS
        ):
            return
        self._timer.stop()
        if busy:
            logger.warning("screenshot taken while tasks were still running")
        self._app.processEvents()
        saved = self._window.grab().save(str(self._path), "PNG")
        if not saved:
            print(
                f"posloyalty: cannot write the screenshot {self._path}", file=sys.stderr
            )
        self._window.close()
        self._app.exit(0 if saved else 1)


def run_till(ctx: TillContext, options: StartOptions | None = None) -> int:
    """Open the till window and run until it closes; return the exit code."""
    options = options or StartOptions()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("posloyalty")
    font = app.font()
    font.setPointSize(BASE_FONT_POINTS)
    app.setFont(font)
    _install_translators(app, ctx.settings.locale)

    window = TillWindow(ctx)
    _show_errors_in_window(window)
    window.show()
    # What the first paint does not need (babel, the print worker) starts once
    # the event loop runs.
    QTimer.singleShot(0, window.start)
    exit_code = 0
    if options.lookup:
        window.run_guarded(lambda: window.submit_scan(options.lookup or ""))
    if options.sale and window.member is None:
        # The window keeps the lookup's message, which says why nobody was found.
        print(
            f"posloyalty: sale not recorded: --lookup {options.lookup!r} attached no"
            f" member ({window.message_area.text()})",
            file=sys.stderr,
        )
        exit_code = 1
    elif options.sale:
        window.amount_input.setText(options.sale)
        window.run_guarded(window.record_sale_from_input)

    screenshot = None
    if options.screenshot is not None:
        screenshot = _Screenshot(app, window, options.screenshot)
    try:
        return int(app.exec()) or exit_code
    finally:
        del screenshot
        sys.excepthook = sys.__excepthook__
