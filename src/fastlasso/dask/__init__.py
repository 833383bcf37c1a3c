"""fastlasso on a Dask cluster: certified Lasso and Elastic Net, paths and CV.

``pip install "fastlasso[dask]"``. The estimators take dask arrays (numpy or
scipy.sparse chunks, float32/float64) or dask DataFrames; workers compute statistics of
their row chunks (fastlasso._chunkstats), the client solves with the in-memory kernels,
and every fit ends with a duality gap computed from a pass over the data::

    import fastlasso.dask as fld
    m = fld.Lasso(alpha=0.1).fit(dX, dy)     # eager
    m.coef_, m.dual_gap_, m.n_passes_
    m.predict(dX)                            # lazy
    m.to_local()                             # a fastlasso.Lasso, no client
"""

try:
    import dask.array  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'fastlasso.dask needs dask: pip install "fastlasso[dask]"') from exc

from fastlasso.dask._cv import ElasticNetCV, LassoCV
from fastlasso.dask._estimators import ElasticNet, Lasso
from fastlasso.dask._path import enet_path, lasso_path

__all__ = ["ElasticNet", "ElasticNetCV", "Lasso", "LassoCV", "enet_path", "lasso_path"]
