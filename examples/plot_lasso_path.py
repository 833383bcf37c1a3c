"""
Lasso path on the diabetes data
===============================

The regularisation path: every coefficient of the Lasso as a function of the
penalty ``alpha``, from ``alpha_max`` (all zero) down to ``alpha_max / 1000``. The
data are scikit-learn's diabetes set: ten baseline measurements of 442 patients
(age, sex, body mass index, blood pressure and six blood serum values ``s1`` to
``s6``) and a measure of disease progression one year later.

Reading the picture from left (large alpha) to right: the order in which features
enter the model ranks how much each one explains beyond those already in. ``bmi``
and ``s5`` (a triglyceride measure) come first. ``s2`` (LDL cholesterol) is
correlated at 0.9 with ``s1`` (total cholesterol) and enters only near the end;
once both are in, their weights grow large with opposite signs: with little
penalty, the fit uses their difference.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes

from fastlasso import lasso_path, plot_path

X, y = load_diabetes(return_X_y=True, as_frame=True)

# %%
# ``lasso_path`` has scikit-learn's signature: by default it fits no intercept, so
# centre ``y`` (the columns of this ``X`` are centred already) or pass
# ``fit_intercept=True``. It returns the grid, the coefficients (one column per
# alpha) and the duality gap of every point: each one is certified.
alphas, coefs, gaps = lasso_path(X, y, fit_intercept=True, eps=1e-3, alphas=100)
print(f"{len(alphas)} alphas from {alphas[0]:.3g} down to {alphas[-1]:.3g}")
tol_gap = 1e-4 * np.var(y)  # the default tol, in the units of the objective
print(f"largest duality gap along the path: {gaps.max():.3g} (allowed: {tol_gap:.3g})")

entry = {name: alphas[np.flatnonzero(c)[0]]
         for name, c in zip(X.columns, coefs, strict=True) if np.any(c)}
for name, a in sorted(entry.items(), key=lambda kv: -kv[1]):
    print(f"{name:4} enters at alpha = {a:.3g}")

# %%
# ``plot_path`` draws it, labelling the features by name.
fig, ax = plt.subplots(figsize=(8, 5))
plot_path((alphas, coefs), feature_names=list(X.columns), ax=ax)
ax.set_title("Lasso path, diabetes data (442 patients, 10 features)")
fig.tight_layout()
plt.show()
