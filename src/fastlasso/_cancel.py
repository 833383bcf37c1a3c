"""Ctrl-C for kernels running in worker threads.

Signals reach only the main thread, so a kernel in a worker thread never sees Ctrl-C
through PyErr_CheckSignals. ``map_threads`` gives its workers a shared token; when the
main thread's wait is interrupted it cancels the token, and the kernels' periodic
signal check (see _signals.pxd) polls the token of their thread and raises
KeyboardInterrupt, so the pool shuts down within one check instead of finishing.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

_local = threading.local()


class _Token:
    cancelled = False


def cancelled():
    """True if the calling thread works for a map_threads call that was cancelled."""
    token = getattr(_local, "token", None)
    return token is not None and token.cancelled


def map_threads(fn, jobs, n_threads):
    """[fn(job) for job in jobs] in n_threads threads; an exception (Ctrl-C) in the
    waiting thread cancels the jobs still running and is re-raised."""
    token = _Token()

    def work(job):
        _local.token = token
        try:
            return fn(job)
        finally:
            _local.token = None

    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        futures = [pool.submit(work, job) for job in jobs]
        try:
            return [f.result() for f in futures]
        except BaseException:
            token.cancelled = True
            for f in futures:
                f.cancel()
            raise
