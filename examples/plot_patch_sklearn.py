"""
Drop-in speed-up of a scikit-learn pipeline
===========================================

Code written for scikit-learn runs on fastlasso without an edit: call
:func:`fastlasso.patch_sklearn` before it builds its estimators, and
``sklearn.linear_model.Lasso``, ``ElasticNet``, ``LassoCV``, ``ElasticNetCV``,
``lasso_path`` and ``enet_path`` are fastlasso's. This example times one existing
pipeline, unchanged, on scikit-learn and then on fastlasso, and checks that both
choose the same model.

The data: scikit-learn's diabetes set; the pipeline expands it to all pairwise
products and squares of its features (65 columns), standardises them and picks the
Lasso's alpha by 5-fold cross-validation over 100 alphas.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

import fastlasso

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)


def existing_pipeline():
    """Code as it was written for scikit-learn (nothing here knows fastlasso)."""
    from sklearn.linear_model import LassoCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    return make_pipeline(PolynomialFeatures(2, include_bias=False), StandardScaler(),
                         LassoCV(cv=5, max_iter=10_000))


def timed_fit():
    pipe = existing_pipeline()
    start = time.perf_counter()
    pipe.fit(X_train, y_train)
    return pipe, time.perf_counter() - start


# %%
# scikit-learn first, then the same function after ``patch_sklearn()`` (best of
# three runs each). ``sklearn_patched()`` does the same as a context manager.
runs = {}
for backend in ("scikit-learn", "fastlasso"):
    if backend == "fastlasso":
        fastlasso.patch_sklearn()
    fits = [timed_fit() for _ in range(3)]
    pipe, seconds = min(fits, key=lambda f: f[1])
    model = pipe[-1]
    runs[backend] = seconds
    print(f"{backend:12} {seconds:6.2f} s  {type(model).__module__}.LassoCV  "
          f"alpha_ = {model.alpha_:.4g}, {np.count_nonzero(model.coef_)} nonzero "
          f"weights, test R^2 = {pipe.score(X_test, y_test):.3f}")
fastlasso.unpatch_sklearn()
print(f"speed-up: {runs['scikit-learn'] / runs['fastlasso']:.1f}x")

# %%
# Both choose alpha on the same grid with the same folds; they agree up to the
# solvers' tolerance (``tol=1e-4`` of the variance of y, on the duality gap, for
# both).
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(list(runs), list(runs.values()), color=["tab:grey", "tab:blue"])
ax.set_xlabel("seconds to fit the pipeline (LassoCV, 5 folds x 100 alphas)")
ax.set_title("The same scikit-learn code, before and after patch_sklearn()")
for i, seconds in enumerate(runs.values()):
    ax.text(seconds, i, f" {seconds:.2f} s", va="center")
ax.set_xlim(0, 1.2 * max(runs.values()))
ax.invert_yaxis()
fig.tight_layout()
plt.show()
