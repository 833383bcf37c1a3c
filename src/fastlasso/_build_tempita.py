"""Build helper: expand one Tempita template (``X.tp`` -> ``X``) for meson."""

import sys

from Cython import Tempita


def main(src, dst):
    with open(src, encoding="utf-8") as f:
        text = Tempita.Template(f.read(), name=src).substitute()
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main(*sys.argv[1:])
