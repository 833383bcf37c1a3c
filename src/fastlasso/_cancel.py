"""Ctrl-C for kernels running in worker threads.

Signals reach only the main thread, so a kernel in a worker thread never sees Ctrl-C
through PyErr_CheckSignals. ``map_threads`` gives its workers a shared cancellation
token (fastlasso._interrupt, the state the kernels own); when the main thread's wait is
interrupted it cancels the token, and the kernels' checks (_signals.pxd: at the start
of every kernel call and every few million touched entries) read the token of their
thread and raise KeyboardInterrupt, so the pool shuts down within one check instead of
finishing. ``map_jobs`` does the same through joblib (so that a joblib backend the
caller configures, such as Dask's, can run the jobs elsewhere); there the abort also
waits for the workers to stop (joblib's thread pool returns from an abort at once and
leaves running jobs to run on), so no fold outlives the call it belongs to.
"""

import threading
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
    (Ctrl-C) or in a job. joblib's abort terminates the pool without waiting for the
    jobs running in it (a thread cannot be killed), so the abort here then joins the
    threads that ran jobs: each stops at its kernels' next check of the token (a job
    between kernel calls, in Python or numpy code, finishes that step first). A second
    Ctrl-C during that wait leaves them to stop on their own."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.token = CancelToken()
        self._lock = threading.Lock()
        self._workers = set()  # the threads that ran a job of the current pool

    def submit(self, func, callback=None):
        work = _bound_to(self.token, func)
        workers, lock = self._workers, self._lock

        def tracked():
            with lock:
                workers.add(threading.current_thread())
            return work()

        return super().submit(tracked, callback=callback)

    def abort_everything(self, ensure_ready=True):
        self.token.cancel()
        with self._lock:
            workers, self._workers = self._workers, set()
        super().abort_everything(ensure_ready=ensure_ready)  # no job starts after it
        self.token = CancelToken()
        with self._lock:  # a job that started during the abort added its thread
            workers = list(workers)
        me = threading.current_thread()
        for thread in workers:
            if thread is not me:
                thread.join()


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
