"""
Choosing alpha: LassoCV and the one-standard-error rule
=======================================================

``LassoCV`` computes the Lasso path on each of K training folds and the mean
squared error on the held-out rows along it. Two choices of ``alpha`` follow from
the curve:

- ``alpha_min_``, the alpha of least mean CV error (scikit-learn's choice);
- ``alpha_1se_``, the largest alpha whose mean error is within one standard error
  of that minimum (glmnet's ``lambda.1se``). The standard error, ``mse_se_``, is the
  spread of the K fold errors divided by sqrt(K): differences smaller than that are
  noise of the estimate, so the simpler model is as good as the data can tell.

The data: scikit-learn's diabetes set with all pairwise products and squares of
its 10 features (65 candidate features in all, standardised), so that there is
something to select.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import KFold
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from fastlasso import LassoCV, plot_cv, plot_path

X, y = load_diabetes(return_X_y=True, as_frame=True)
poly = PolynomialFeatures(degree=2, include_bias=False).set_output(transform="pandas")
X = StandardScaler().set_output(transform="pandas").fit_transform(poly.fit_transform(X))
print(X.shape)

# %%
# Shuffled folds (the rows of this data set are not in random order). With
# ``alpha_rule="1se"`` the one-standard-error choice becomes ``alpha_`` and is the
# one refitted on all the data; both choices are reported either way.
cv = LassoCV(cv=KFold(10, shuffle=True, random_state=0), alpha_rule="1se").fit(X, y)

mse = cv.mse_path_.mean(axis=1)
for name, a in [("alpha_min_", cv.alpha_min_), ("alpha_1se_", cv.alpha_1se_)]:
    i = int(np.flatnonzero(cv.alphas_ == a)[0])
    print(f"{name} = {a:.3g}: mean CV MSE {mse[i]:.0f} +- {cv.mse_se_[i]:.0f}, "
          f"{cv.n_nonzero_path_[i]:.0f} nonzero weights (mean over folds)")
print("selected by the 1-SE rule:", ", ".join(cv.feature_names_in_[cv.coef_ != 0]))

# %%
# ``plot_cv`` draws the curve as glmnet does: mean error with one-standard-error
# bars, both choices marked, the number of nonzero weights along the top.
# ``plot_path`` draws the path of the whole data on the same grid, with the same
# marks.
fig, (ax_cv, ax_path) = plt.subplots(1, 2, figsize=(12, 4.8))
plot_cv(cv, ax=ax_cv)
ax_cv.set_title("10-fold CV error (65 features)", pad=28)
plot_path(cv, X, y, ax=ax_path, top=6)
ax_path.set_title("Lasso path, chosen alphas marked")
fig.tight_layout()
plt.show()
