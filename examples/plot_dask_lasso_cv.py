"""
Lasso on a Dask array: cross-validation from two passes
========================================================

``fastlasso.dask`` fits on data held as row chunks by Dask, here 200,000 rows x 40
features in 20 chunks, generated lazily (nothing is held in memory as one array). The
workers compute statistics of their chunks (means and centred Gram matrices, per
cross-validation fold); the client solves with fastlasso's in-memory kernels; one more
pass computes the duality gap of the refitted model on the data.

On a cluster, create a ``distributed.Client`` first (or pass ``client=``); without
one, as here, Dask's local threaded scheduler runs the chunks.
"""

import time

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np

import fastlasso
import fastlasso.dask as fld
from fastlasso import plot_cv

n, p, chunk = 200_000, 40, 10_000
rng = da.random.default_rng(0)
X = rng.standard_normal((n, p), chunks=(chunk, p))
true_coef = np.zeros(p)
true_coef[:8] = [3.0, -2.5, 2.0, -1.5, 1.0, -0.6, 0.3, -0.15]
y = X @ true_coef + 5.0 + 2.0 * rng.standard_normal(n, chunks=chunk)
print(f"X: {X.shape[0]:,} x {X.shape[1]} in {X.numblocks[0]} chunks of {chunk:,} rows")

# %%
# 5-fold cross-validation with the one-standard-error rule. The folds are contiguous
# ranges of rows (scikit-learn's KFold without shuffling), so each fold's statistics
# come from the same pass; ``n_passes_`` counts the passes over the data.
start = time.perf_counter()
cv = fld.LassoCV(cv=5, alpha_rule="1se").fit(X, y)
print(f"fastlasso.dask.LassoCV: {time.perf_counter() - start:.1f} s, "
      f"{cv.n_passes_} passes, alpha_ = {cv.alpha_:.4g}, "
      f"{np.count_nonzero(cv.coef_)} nonzero weights, duality gap {cv.dual_gap_:.2e}")

# %%
# The same data in memory, fitted by ``fastlasso.LassoCV``: the same folds, grid and
# choice, hence the same model up to the solvers' tolerance.
X_mem, y_mem = dask.compute(X, y)
start = time.perf_counter()
local = fastlasso.LassoCV(cv=5, alpha_rule="1se").fit(X_mem, y_mem)
print(f"fastlasso.LassoCV in memory: {time.perf_counter() - start:.1f} s, "
      f"alpha_ = {local.alpha_:.4g}")
print(f"same alpha_: {cv.alpha_ == local.alpha_}; largest coefficient difference: "
      f"{np.abs(cv.coef_ - local.coef_).max():.1e}")

# %%
# The CV curve of the Dask fit (its attributes are those of ``fastlasso.LassoCV``, so
# ``plot_cv`` draws it), and its weights against the true ones. With standardised
# features the L1 penalty shrinks every kept weight towards 0 by about ``alpha_``.
selected = np.flatnonzero(cv.coef_)
print(f"selected features: {list(selected)}; "
      f"true ones: {list(np.flatnonzero(true_coef))}")
fig, (ax_cv, ax_coef) = plt.subplots(1, 2, figsize=(12, 4.8))
plot_cv(cv, ax=ax_cv)
ax_cv.set_title("fastlasso.dask.LassoCV, 200,000 rows", pad=28)
idx = np.arange(12)
ax_coef.bar(idx - 0.2, true_coef[idx], width=0.4, label="true weight", color="grey")
ax_coef.bar(idx + 0.2, cv.coef_[idx], width=0.4, label="fitted (alpha_1se)",
            color="tab:blue")
ax_coef.axhline(0, color="k", lw=0.8)
ax_coef.set_xticks(idx, labels=[f"x{j}" for j in idx])
ax_coef.set_title("First 12 of 40 weights (the last 32 are 0)")
ax_coef.legend()
fig.tight_layout()
plt.show()
