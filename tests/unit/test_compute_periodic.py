"""The compute agents' one timer thread: every task on it, failures do not stop a task."""

import threading

from stratus.compute.periodic import Ticker


def test_many_tasks_share_one_thread_and_a_failing_task_keeps_its_schedule():
    ticker = Ticker()
    threads: set[str] = set()
    runs = {"a": 0, "b": 0, "failing": 0}
    enough = threading.Event()
    lock = threading.Lock()

    def task(name):
        def run():
            with lock:
                threads.add(threading.current_thread().name)
                runs[name] += 1
                if all(count >= 3 for count in runs.values()):
                    enough.set()
            if name == "failing":
                raise RuntimeError("this run fails")
        return run

    for name in runs:
        ticker.add(0.01, task(name), run_now=True)
    before = threading.active_count()
    ticker.start()
    try:
        assert enough.wait(10), runs
        assert threading.active_count() == before + 1
    finally:
        ticker.stop()
    assert threads == {"stratus-periodic"}


def test_stop_returns_while_waiting_for_a_far_tick():
    ticker = Ticker()
    ticker.add(3600, lambda: None)
    ticker.start()
    stopper = threading.Thread(target=ticker.stop)
    stopper.start()
    stopper.join(5)
    assert not stopper.is_alive()
