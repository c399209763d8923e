"""tim3check: a model checker for systems of AO processes.

The engine knows nothing about TIM3: specs are loaded by module or file path
(``checker.loader``). Read ``checker/spec.py`` first, then ``checker/semantics.py``.
"""

__version__ = "0.1.0"
