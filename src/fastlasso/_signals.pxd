# Ctrl-C from kernels that run without the GIL: take it back briefly and ask Python
# whether a signal handler raised (KeyboardInterrupt for SIGINT), or whether the
# thread's work was cancelled (worker threads never see signals: see _cancel.py).

cdef extern from "Python.h":
    # declared without Cython's exception spec, so that a raised KeyboardInterrupt is
    # left set for the caller to propagate instead of being reported and cleared here
    int _PyErr_CheckSignals "PyErr_CheckSignals" ()
    void _PyErr_SetKeyboardInterrupt "PyErr_SetNone" (object)
    void _PyErr_SetObject "PyErr_SetObject" (object, object)


cdef inline int check_interrupt_status() noexcept nogil:
    """-1 (with the exception set) if a signal handler raised or the work of this
    thread was cancelled, else 0."""
    with gil:
        if _PyErr_CheckSignals() == -1:
            return -1
        stop = False
        err = None
        try:
            from fastlasso._cancel import cancelled
            stop = cancelled()
        except Exception:
            pass
        except BaseException as e:
            # a signal arriving now has its handler run inside cancelled(): what it
            # raised (KeyboardInterrupt) must reach the caller, not be dropped here
            err = e
        if err is not None:
            _PyErr_SetObject(type(err), err)
            return -1
        if stop:
            _PyErr_SetKeyboardInterrupt(KeyboardInterrupt)
            return -1
        return 0


cdef inline int check_interrupt() except -1 nogil:
    """Raise now whatever a pending signal handler raised (KeyboardInterrupt)."""
    if check_interrupt_status() == -1:
        return -1
    return 0
