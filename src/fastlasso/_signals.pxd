# Ctrl-C from kernels that run without the GIL: take it back briefly and ask Python
# whether a signal handler raised (KeyboardInterrupt for SIGINT).

from cpython.exc cimport PyErr_CheckSignals


cdef inline int check_interrupt_status() noexcept nogil:
    """-1 (with the exception set) if a signal handler raised, else 0."""
    with gil:
        return PyErr_CheckSignals()


cdef inline int check_interrupt() except -1 nogil:
    """Raise now whatever a pending signal handler raised (KeyboardInterrupt)."""
    if check_interrupt_status() == -1:
        return -1
    return 0
