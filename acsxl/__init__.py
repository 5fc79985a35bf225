"""acsxl: triage of IRS Automated Collection System cases for tax-resolution practitioners.

Layers, inner to outer: ``acsxl.rules`` (pure rules over dated, cited parameters) <- ``acsxl.engine``
(vectorized) and ``acsxl.scalar`` (one case) <- adapters in ``acsxl.io`` and ``acsxl.cli``.
"""

__version__ = "0.1.0"
