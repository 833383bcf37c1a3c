"""Build helper: expand one Tempita template (``X.tp`` -> ``X``) for meson.

Every template sees the names defined here, so that the data layouts the kernels are
specialised for are written down once:

``LAYOUTS``
    one ``(kind, itype, XP, XA, XMV)`` tuple per layout of the design matrix X:

    - ``kind``: the suffix of the specialised functions (``col_dot_dense``, ...);
      ``"dense"`` is a Fortran-ordered array (column j at ``X + j * ldx``), ``"csc32"``
      and ``"csc64"`` are CSC matrices with int32 / int64 indices;
    - ``itype``: the C type of the CSC indices (None for dense);
    - ``XP``: the C parameters that pass X to a ``cdef`` function;
    - ``XA``: the matching arguments, to pass X on;
    - ``XMV``: the typed-memoryview parameters of a Python-visible ``def`` function.
``CSC_LAYOUTS``
    the sparse entries of LAYOUTS.
``CD_LAYOUTS``
    the layouts of the coordinate-descent solver ``enet_cd_<kind>``: LAYOUTS and
    ``"cdense"``, a C-ordered (row-major) dense array (row i at ``X + i * ldx``, ldx =
    p), whose primitives are written out in _design_c.pxi (not per template) and
    whose restricted solves run on packed columns (_pack.pxi).
"""

import sys

from Cython import Tempita


def _layouts():
    dense = (
        "dense",
        None,
        "const floating* X, Py_ssize_t ldx",
        "X, ldx",
        "const floating[::1, :] X_arr",
    )
    csc = [
        (
            kind,
            itype,
            f"const floating* Xd, const {itype}* Xi, const {itype}* Xp",
            "Xd, Xi, Xp",
            f"const floating[::1] X_data, const {itype}[::1] X_indices, "
            f"const {itype}[::1] X_indptr",
        )
        for kind, itype in (("csc32", "int32_t"), ("csc64", "int64_t"))
    ]
    cdense = (
        "cdense",
        None,
        "const floating* X, Py_ssize_t ldx",
        "X, ldx",
        "const floating[:, ::1] X_arr",
    )
    return [dense] + csc, csc, [dense] + csc + [cdense]


LAYOUTS, CSC_LAYOUTS, CD_LAYOUTS = _layouts()


def expand(text, name):
    """The template ``text`` (named ``name`` in errors) with the names above."""
    return Tempita.Template(text, name=name).substitute(
        LAYOUTS=LAYOUTS, CSC_LAYOUTS=CSC_LAYOUTS, CD_LAYOUTS=CD_LAYOUTS
    )


def main(src, dst):
    with open(src, encoding="utf-8") as f:
        text = expand(f.read(), src)
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main(*sys.argv[1:])
