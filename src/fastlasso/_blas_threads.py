"""The kernels' BLAS thread budget: ``with kernel_blas_threads(n_threads, size):``.

The kernels' own parallelism is ``n_threads`` (OpenMP, default 1); their level-3 BLAS
and LAPACK calls (Gram blocks in lazy Gram mode, the Cholesky Newton steps on dense
supports) go to the process's BLAS, whose default is one thread per core. Those calls
are small and many (a working set's columns, a support of tens to hundreds of
features): each one wakes the BLAS threads for microseconds of work, and when the cores
are busy (other processes, or CV folds running in threads) every call waits for them to
be scheduled, which makes whole fits many times slower. So while a kernel runs, the
BLAS libraries run on at most the kernel's own thread budget.

The rule, and what it leaves to the user:

- Limits only ever lower the count: the budget is min(n_threads, the count the
  process has when the outermost block opens), and that count comes back when it
  closes. A count the user chose (``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/
  ``MKL_NUM_THREADS`` at start-up, ``threadpoolctl.threadpool_limits`` around the fit,
  numpy/scipy's own settings) is therefore respected: a fit never raises it, and code
  after the fit finds it unchanged. Python code between the kernel calls (the column
  statistics, a full Gram matrix) keeps it too.
- The BLAS thread count is a property of the process, and OpenBLAS ignores a request to
  raise it made from any thread but the main one (scipy-openblas 0.3.31: a worker thread
  that restores 2 threads leaves 1). So the count is changed from the main thread only:
  the maps that run kernels in worker threads (_cancel.map_threads, map_jobs: CV folds)
  set the budget of their jobs (one thread each) around the whole map, and a kernel
  block in any other thread (the user's own threads, a Dask worker) leaves the count
  alone. Blocks nest: the largest budget among the open ones holds, and the last one to
  close restores the count it found.
- A kernel whose largest level-3 product (m * n * k flops of one GEMM/SYRK; at most
  n * p^2 for an n x p design) is below 2^18 leaves the count alone (``size``):
  OpenBLAS runs such calls on the calling thread anyway (SMP_THRESHOLD_MIN 65536 x
  GEMM_MULTITHREAD_THRESHOLD 4, interface/gemm.c), and for fits of tiny data the two
  library calls of the limit would be a visible share of the fit's fixed cost.
- threadpoolctl finds and sets the libraries (it comes with scikit-learn, which
  requires it). If it cannot be imported or cannot inspect the process, the blocks do
  nothing: the fits are the same, only slower on a busy machine.
"""

import threading
from collections import Counter
from contextlib import contextmanager, nullcontext

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover - scikit-learn requires threadpoolctl
    ThreadpoolController = None

# OpenBLAS runs a level-3 call of fewer flops (m * n * k) than this on one thread
SMALL_LEVEL3 = 2**18

_lock = threading.Lock()
_running = Counter()  # thread budget -> kernels running with it
_state = {"libraries": None, "saved": None, "set": None}


def _libraries():
    """threadpoolctl's controllers of the BLAS libraries loaded now (the kernels' BLAS,
    scipy's, is loaded with the kernel modules, before any kernel runs); [] if
    threadpoolctl is missing or fails to inspect the process."""
    if _state["libraries"] is None:
        try:
            blas = ThreadpoolController().select(user_api="blas")
            _state["libraries"] = list(blas.lib_controllers)
        except Exception:  # noqa: BLE001 - no limit is a correct (slower) fallback
            _state["libraries"] = []
    return _state["libraries"]


def _apply():
    """Under _lock: the libraries' thread counts for the kernels now running. A
    library is set only where its count changes."""
    libraries = _libraries()
    if _running:
        if _state["saved"] is None:
            _state["saved"] = [lib.num_threads for lib in libraries]
            _state["set"] = list(_state["saved"])
        budget = max(_running)
        for i, (lib, saved) in enumerate(zip(libraries, _state["saved"], strict=True)):
            target = min(budget, saved)
            if _state["set"][i] != target:
                lib.set_num_threads(target)
                _state["set"][i] = target
    elif _state["saved"] is not None:
        for lib, saved, now in zip(libraries, _state["saved"], _state["set"],
                                   strict=True):
            if now != saved:
                lib.set_num_threads(saved)
        _state["saved"] = _state["set"] = None


@contextmanager
def _budget(n_threads):
    budget = max(1, int(n_threads))
    with _lock:
        _running[budget] += 1
        _apply()
    try:
        yield
    finally:
        with _lock:
            _running[budget] -= 1
            if _running[budget] == 0:
                del _running[budget]
            _apply()


def _within(budget):
    """Whether every BLAS library runs on at most ``budget`` threads now (False if a
    count is unknown)."""
    for lib in _libraries():
        count = lib.get_num_threads()
        if count is None or count > budget:
            return False
    return True


def kernel_blas_threads(n_threads, size=None):
    """A context: BLAS on at most max(1, n_threads) threads (never more than it had)
    while the block runs, if it runs in the main thread and ``size`` (the largest
    level-3 product of the kernel, m * n * k; None: unknown) is not below SMALL_LEVEL3
    (module docstring); nested blocks: the largest budget. With no block open and
    every library on at most the budget already (BLAS limited to one thread by the
    user or the environment, the usual setting of benchmarks and of jobs that run
    in parallel processes), there is nothing to lower or restore: the block does
    nothing, without the bookkeeping (one query of each library instead of the
    lock, the counters and their context manager: ~10 us less per fit)."""
    if threading.current_thread() is not threading.main_thread():
        return nullcontext()
    if size is not None and size < SMALL_LEVEL3:
        return nullcontext()
    if not _running and _within(max(1, int(n_threads))):
        return nullcontext()
    return _budget(n_threads)
