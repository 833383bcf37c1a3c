"""Peak extra memory of a call (Linux), for the benchmark scripts.

    with PeakMemory() as m:
        est.fit(X, y)
    m.rss, m.traced  # bytes

Two figures, because neither sees everything the other does:

- ``rss``: the peak resident set size (``VmHWM`` of /proc/self/status) above the
  resident size at entry; the peak counter is first reset to the current size by
  writing 5 to /proc/self/clear_refs. It sees every allocation, the kernels' C
  mallocs (Gram caches) included, but only pages actually touched.
- ``traced``: tracemalloc's peak above what it traced at entry: every allocation
  through Python's allocators (numpy arrays), not the kernels' C mallocs.

Run one measurement per fresh process: the resident size at entry includes whatever
earlier work left in the heap.
"""

import tracemalloc


def proc_status(field):
    """A size field of /proc/self/status (``VmRSS``, ``VmHWM``, ...) in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_rss():
    """Restart the process's peak resident size (``VmHWM``) at its current size."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


class PeakMemory:
    """Context manager: on exit, ``rss`` and ``traced`` (bytes; module docstring)."""

    def __enter__(self):
        reset_peak_rss()
        self._rss0 = proc_status("VmRSS")
        tracemalloc.start()
        self._traced0 = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc):
        self.traced = tracemalloc.get_traced_memory()[1] - self._traced0
        tracemalloc.stop()
        self.rss = proc_status("VmHWM") - self._rss0
        return False
