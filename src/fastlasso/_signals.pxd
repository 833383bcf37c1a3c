# Stopping kernels that run without the GIL: when a call starts and every few million
# touched entries they take the GIL back briefly and ask whether a signal handler
# raised (KeyboardInterrupt for SIGINT, main thread only) or whether the work of their
# thread was cancelled (a worker thread's token, see _interrupt.pyx). Neither check
# runs Python code of the package.

from fastlasso._interrupt cimport cancel_requested

cdef extern from "Python.h":
    # declared without Cython's exception spec, so that a raised KeyboardInterrupt is
    # left set for the caller to propagate instead of being reported and cleared here
    int _PyErr_CheckSignals "PyErr_CheckSignals" ()
    void _PyErr_SetKeyboardInterrupt "PyErr_SetNone" (object)


cdef inline int check_interrupt_status() noexcept nogil:
    """-1 (with the exception set) if a signal handler raised or the work of this
    thread was cancelled, else 0."""
    with gil:
        if _PyErr_CheckSignals() == -1:
            return -1
        if cancel_requested():
            _PyErr_SetKeyboardInterrupt(KeyboardInterrupt)
            return -1
        return 0


cdef inline int check_interrupt() except -1 nogil:
    """Raise now whatever a pending signal handler raised (KeyboardInterrupt), or
    KeyboardInterrupt if the work of this thread was cancelled."""
    if check_interrupt_status() == -1:
        return -1
    return 0
