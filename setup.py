"""Builds the explorer's compiled core where a C compiler is present.

The extension is optional: without a compiler ``pip install`` still succeeds and
tim3check runs its pure-Python explorer (``checker/engines/compiled.py``).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "checker.engines._core",
            sources=["checker/engines/_core.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
