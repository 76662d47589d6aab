"""pages.common.heavy_work: a bounded number of heavy computations at once, memory handed back."""

import threading
import time

import pytest

import pages.common as common


def test_at_most_its_slots_at_once_and_memory_handed_back(monkeypatch):
    trims = []
    monkeypatch.setattr(common, "_malloc_trim", trims.append)
    running = peak = 0
    lock = threading.Lock()

    def work():
        nonlocal running, peak
        with common.heavy_work():
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.05)
            with lock:
                running -= 1

    threads = [threading.Thread(target=work) for _ in range(common.HEAVY_SLOTS + 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert peak == common.HEAVY_SLOTS
    assert trims == [0] * len(threads)


def test_a_failed_computation_frees_its_slot(monkeypatch):
    monkeypatch.setattr(common, "_malloc_trim", None)
    for _ in range(common.HEAVY_SLOTS + 1):
        with pytest.raises(MemoryError), common.heavy_work():
            raise MemoryError
    done = threading.Event()

    def work():
        with common.heavy_work():
            done.set()

    threading.Thread(target=work).start()
    assert done.wait(5)
