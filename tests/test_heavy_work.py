"""pages.common.heavy_work: a bounded number of heavy computations at once, memory handed back."""

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
