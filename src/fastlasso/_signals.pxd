# Ctrl-C from kernels that run without the GIL: take it back briefly and ask Python
# whether a signal handler raised (KeyboardInterrupt for SIGINT).

cdef extern from "Python.h":
    # declared without Cython's exception spec, so that a raised KeyboardInterrupt is
    # left set for the caller to propagate instead of being reported and cleared here
    int _PyErr_CheckSignals "PyErr_CheckSignals" ()


cdef inline int check_interrupt_status() noexcept nogil:
    """-1 (with the exception set) if a signal handler raised, else 0."""
    with gil:
        return _PyErr_CheckSignals()


cdef inline int check_interrupt() except -1 nogil:
    """Raise now whatever a pending signal handler raised (KeyboardInterrupt)."""
    if check_interrupt_status() == -1:
        return -1
    return 0
