"""tim3check: a model checker for systems of AO processes.

The engine knows nothing about TIM3: specs are loaded by module or file path
(``checker.interfaces.loader``). Read ``checker/model/spec.py`` first, then ``checker/model/semantics.py``.
"""

__version__ = "0.1.0"
