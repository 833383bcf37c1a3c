"""Cancellation of kernel work: the state the kernels poll, owned by the kernels.

A kernel runs without the GIL and checks when it starts and every few million touched
entries whether to stop (_signals.pxd): a signal handler raised (Ctrl-C, in the main
thread), or the work of its thread was cancelled. Signals reach only the main thread,
so a kernel running in a worker thread learns of Ctrl-C through a cancellation token:
a flag that the thread waiting for the workers sets when it is interrupted. Each
thread has at most one token bound (a C thread-local pointer to the token's flag); the
kernels' check reads it with one load, runs no Python code, and imports no Python
module of the package. The Python drivers (fastlasso._cancel) make the tokens, bind
them in their worker threads and cancel them.
"""

import threading

cdef extern from *:
    """
    #if defined(_MSC_VER)
    #define FL_THREAD_LOCAL __declspec(thread)
    #else
    #define FL_THREAD_LOCAL _Thread_local
    #endif
    /* the flag of the token bound to this thread (NULL: none) */
    static FL_THREAD_LOCAL int *fl_cancel_flag = NULL;
    """
    int* fl_cancel_flag

# keeps the token bound to each thread alive while its flag's address is in use
_bound = threading.local()


cdef class CancelToken:
    """A cancellation flag shared by the threads that work for one call."""

    cdef int flag

    def cancel(self):
        """Ask every kernel running in a thread this token is bound to to stop (it
        raises KeyboardInterrupt at its next check)."""
        self.flag = 1

    @property
    def cancelled(self):
        return self.flag != 0


def bind_token(CancelToken token):
    """Bind ``token`` (or None: no token) to the calling thread; returns the token
    bound before, to be bound again when this work is done."""
    global fl_cancel_flag
    previous = getattr(_bound, "token", None)
    _bound.token = token
    fl_cancel_flag = NULL if token is None else &token.flag
    return previous


cdef bint cancel_requested() noexcept nogil:
    return fl_cancel_flag != NULL and fl_cancel_flag[0] != 0
