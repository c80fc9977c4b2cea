"""The task runner: work off the GUI thread, results back on it."""

from __future__ import annotations

import threading

import pytest

from posloyalty.ui.tasks import DEVICE_LANE, LEDGER_LANE, TaskRunner


@pytest.fixture
def runner(qtbot):
    runner = TaskRunner()
    yield runner
    runner.shutdown()


def test_success_reported_on_gui_thread(qtbot, runner):
    gui_thread = threading.get_ident()
    ran_on: list[int] = []
    delivered: list[tuple[object, int]] = []

    def work() -> str:
        ran_on.append(threading.get_ident())
        return "done"

    runner.submit(
        "work", work, on_success=lambda r: delivered.append((r, threading.get_ident()))
    )

    qtbot.waitUntil(lambda: delivered != [])
    assert ran_on != [gui_thread]
    assert delivered == [("done", gui_thread)]
    assert runner.is_idle()


def test_failure_reported_on_gui_thread(qtbot, runner):
    gui_thread = threading.get_ident()
    failures: list[tuple[BaseException, int]] = []

    def work() -> None:
        raise ValueError("printer on fire")

    runner.submit(
        "work",
        work,
        on_success=lambda _r: pytest.fail("success reported for a failure"),
        on_failure=lambda e: failures.append((e, threading.get_ident())),
    )

    qtbot.waitUntil(lambda: failures != [])
    [(error, thread)] = failures
    assert isinstance(error, ValueError)
    assert str(error) == "printer on fire"
    assert thread == gui_thread


def test_ledger_lane_keeps_order(qtbot, runner):
    order: list[int] = []
    for number in range(20):
        runner.submit("step", lambda n=number: n, on_success=order.append)

    qtbot.waitUntil(lambda: len(order) == 20)
    assert order == list(range(20))


def test_slow_device_does_not_block_ledger(qtbot, runner):
    release = threading.Event()
    done: list[str] = []
    runner.submit("slow printer", lambda: release.wait(5), lane=DEVICE_LANE)
    runner.submit("sale", lambda: "sale", on_success=done.append, lane=LEDGER_LANE)

    qtbot.waitUntil(lambda: done == ["sale"], timeout=2000)
    assert not runner.is_idle()
    release.set()
    qtbot.waitUntil(runner.is_idle)


def test_inline_runner_runs_at_once(qtbot):
    runner = TaskRunner(inline=True)
    results: list[int] = []
    idle_states: list[bool] = []
    runner.idle_changed.connect(idle_states.append)

    runner.submit("work", lambda: 41 + 1, on_success=results.append)

    assert results == [42]
    assert idle_states == [False, True]


def test_unknown_lane_is_rejected(runner):
    with pytest.raises(ValueError, match="unknown task lane 'gpu'"):
        runner.submit("work", lambda: None, lane="gpu")
