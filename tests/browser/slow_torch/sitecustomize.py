"""Makes a server's first ``import torch`` wait SLOW_TORCH_S seconds (a slow or loaded machine).

On the server's PYTHONPATH, Python imports this module at start-up. The browser tests use it to
check what the first visitor sees while the heavy modules are still loading.
"""

import importlib.abc
import os
import sys
import time


class _SlowTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "torch":
            sys.meta_path.remove(self)
            time.sleep(float(os.environ.get("SLOW_TORCH_S", "20")))
        return None  # the usual finders import it


sys.meta_path.insert(0, _SlowTorch())
