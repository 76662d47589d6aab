"""pages.common: a bounded number of heavy computations at once, memory handed back after them
and after the server has been idle."""

import contextlib
import os
import subprocess
import sys
import threading
import time

import pytest

import pages.common as common
from tests.conftest import ROOT


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


# A fresh interpreter: glibc's settings are per process. A 30 MB block is freed (with glibc's
# moving limit, that raises the limit to 30 MB), then a 20 MB one is allocated: it must
# still come from a mapping of its own, which goes back to the system when it is freed.
_LARGE_BLOCKS = """
import ctypes, os, sys
import numpy as np
sys.path.insert(0, os.getcwd())
import pages.common

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
block = np.ones(30 << 20, dtype=np.uint8)
del block
mapped = libc.mallinfo2().hblkhd
block = np.ones(20 << 20, dtype=np.uint8)
print(libc.mallinfo2().hblkhd - mapped)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's malloc")
def test_large_blocks_keep_their_own_mappings():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", _LARGE_BLOCKS], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) >= 20 << 20


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def idle_release(after_s: float = 60.0) -> tuple[common.IdleRelease, FakeClock, list[float]]:
    clock, released = FakeClock(), []
    # interval_s: the watcher thread sleeps through the test; check() is called by hand.
    watch = common.IdleRelease(
        after_s, lambda: released.append(clock.now), clock=clock, interval_s=3600
    )
    return watch, clock, released


def test_idle_release_waits_for_a_quiet_spell_after_the_last_run():
    watch, clock, released = idle_release(60)
    clock.now += 1000
    assert not watch.check()  # no run yet: nothing cached to release
    with watch.running():
        clock.now += 1000
        assert not watch.check()  # a run in flight, however long
    clock.now += 59
    assert not watch.check()
    clock.now += 1
    assert watch.check() and released == [clock.now]
    clock.now += 1000
    assert not watch.check()  # once per quiet spell
    with watch.running():
        pass
    clock.now += 30
    with contextlib.suppress(RuntimeError), watch.running():
        raise RuntimeError  # a failed run ends too (st.rerun and st.stop end runs this way)
    clock.now += 59
    assert not watch.check()  # the spell starts at the end of the last run
    clock.now += 1
    assert watch.check() and len(released) == 2


def test_idle_release_overlapping_runs_and_turned_off():
    watch, clock, released = idle_release(10)
    with watch.running():
        with watch.running():
            pass
        clock.now += 20
        assert not watch.check()  # the other run is still going
    clock.now += 10
    assert watch.check()

    off, clock, released = idle_release(0)
    with off.running():
        pass
    clock.now += 1e6
    assert not off.check() and released == []
    assert off._thread is None  # no watcher when turned off


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("", 180.0), ("45", 45.0), ("0", 0.0), ("-1", -1.0), ("nan", 180.0), ("inf", 180.0),
     ("soon", 180.0), (" 2.5 ", 2.5)],
)  # fmt: skip
def test_idle_release_seconds_from_the_environment(monkeypatch, text, seconds):
    monkeypatch.setenv("DIFFUSION_IDLE_RELEASE_S", text)
    assert common._idle_seconds() == seconds
    assert common.IDLE_RELEASE_DEFAULT_S == 180.0


def test_a_failed_release_is_logged_and_the_watch_goes_on(caplog):
    calls = []

    def release():
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("boom")

    watch = common.IdleRelease(0.01, release, interval_s=0.01)  # a real watcher thread

    def wait_for(count):
        deadline = time.monotonic() + 5
        while len(calls) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return len(calls)

    with watch.running():
        pass
    assert wait_for(1) == 1
    with watch.running():
        pass
    assert wait_for(2) == 2
    assert "releasing idle memory failed" in caplog.text and "boom" in caplog.text
