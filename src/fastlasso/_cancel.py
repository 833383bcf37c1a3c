"""Ctrl-C for kernels running in worker threads.

Signals reach only the main thread, so a kernel in a worker thread never sees Ctrl-C
through PyErr_CheckSignals. ``map_threads`` gives its workers a shared cancellation
token (fastlasso._interrupt, the state the kernels own); when the main thread's wait is
interrupted it cancels the token, and the kernels' periodic check (_signals.pxd) reads
the token of their thread and raises KeyboardInterrupt, so the pool shuts down within
one check instead of finishing. ``map_jobs`` does the same through joblib (so that a
joblib backend the caller configures, such as Dask's, can run the jobs elsewhere).
"""

from concurrent.futures import ThreadPoolExecutor

from joblib import Parallel, delayed
from joblib._parallel_backends import SequentialBackend, ThreadingBackend
from joblib.parallel import get_active_backend

from fastlasso._blas_threads import kernel_blas_threads
from fastlasso._interrupt import CancelToken, bind_token


def _bound_to(token, fn):
    """fn wrapped to run with ``token`` bound to the thread that runs it."""

    def run(*args):
        previous = bind_token(token)
        try:
            return fn(*args)
        finally:
            bind_token(previous)

    return run


def map_threads(fn, jobs, n_threads):
    """[fn(job) for job in jobs] in n_threads threads; an exception (Ctrl-C) in the
    waiting thread cancels the jobs still running and is re-raised."""
    token = CancelToken()
    work = _bound_to(token, fn)
    # the jobs' kernels run on one BLAS thread each (_blas_threads: set from here)
    with kernel_blas_threads(1), ThreadPoolExecutor(max_workers=n_threads) as pool:
        futures = [pool.submit(work, job) for job in jobs]
        try:
            return [f.result() for f in futures]
        except BaseException:
            token.cancel()
            for f in futures:
                f.cancel()
            raise


class CancellableThreading(ThreadingBackend):
    """joblib's thread-pool backend whose threads poll one token (see map_threads),
    cancelled when joblib aborts the pool: on an exception in the waiting thread
    (Ctrl-C) or in a job. joblib's abort joins the threads, so without the token a long
    kernel would first run to its end."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.token = CancelToken()

    def submit(self, func, callback=None):
        return super().submit(_bound_to(self.token, func), callback=callback)

    def abort_everything(self, ensure_ready=True):
        self.token.cancel()
        super().abort_everything(ensure_ready=ensure_ready)
        self.token = CancelToken()


def map_jobs(fn, jobs, n_jobs):
    """[fn(job) for job in jobs] through joblib, in order.

    The active joblib backend decides where the jobs run. Under joblib's default (or a
    "threading" or "sequential" backend the caller configured) they run in n_jobs
    threads of this process (in the calling thread if n_jobs == 1) on
    CancellableThreading, so Ctrl-C stops them as it stops map_threads. Any other
    backend the caller configured (``joblib.parallel_config("dask")``, "loky", ...)
    gets the jobs as they are (a task already running there cannot be interrupted).
    """
    backend, _ = get_active_backend(prefer="threads")
    local = isinstance(backend, (ThreadingBackend, SequentialBackend))
    if local and (n_jobs == 1 or len(jobs) <= 1):
        return [fn(job) for job in jobs]
    parallel = Parallel(
        n_jobs=min(n_jobs, len(jobs)) if local else n_jobs,
        backend=CancellableThreading() if local else None,
        prefer="threads",
    )
    if not local:
        return parallel(delayed(fn)(job) for job in jobs)
    with kernel_blas_threads(1):  # one BLAS thread per job (see map_threads)
        return parallel(delayed(fn)(job) for job in jobs)
