"""Progress reports on stderr for long paths and cross-validation (``verbose``).

Used by the path driver (one step per alpha) and the CV driver (one step per fold
path); a leaf module: it imports nothing from fastlasso.
"""

import sys
import time


class Progress:
    """A one-line progress report on stderr (verbose only): rewritten in place on a
    terminal, one line per step otherwise (logs, pipes)."""

    def __init__(self, total, label, enabled):
        self.total, self.label, self.enabled = total, label, bool(enabled)
        self.done, self.t0 = 0, time.perf_counter()
        self.tty = self.enabled and sys.stderr.isatty()

    def step(self, note=""):
        self.done += 1
        if not self.enabled:
            return
        msg = (f"{self.label}: {self.done}/{self.total} "
               f"({time.perf_counter() - self.t0:.1f} s) {note}")
        if self.tty:
            end = "\n" if self.done == self.total else ""
            sys.stderr.write("\r" + msg.ljust(79) + end)
        else:
            sys.stderr.write(msg + "\n")
        sys.stderr.flush()
