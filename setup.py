"""Build hook for the optional compiled kernels: the book (``connex/book/_fastbook.pyx``)
and MEXC's depth push reader (``connex/exchanges/mexc/_fastpb.pyx``).

Everything else is configured in pyproject.toml. The extension is ``optional``: if it
cannot be compiled, Connex installs anyway and ``L2Book`` uses its pure-Python kernel.
"""

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # pragma: no cover - Cython is a build requirement
    ext_modules = []
else:
    ext_modules = cythonize(
        [
            Extension("connex.book._fastbook", ["src/connex/book/_fastbook.pyx"], optional=True),
            Extension(
                "connex.exchanges.mexc._fastpb",
                ["src/connex/exchanges/mexc/_fastpb.pyx"],
                optional=True,
            ),
        ],
        compiler_directives={"language_level": "3"},
        quiet=True,
    )

setup(ext_modules=ext_modules)
