# The kernels' view of fastlasso._interrupt (the cancellation state they own).

cdef bint cancel_requested() noexcept nogil
