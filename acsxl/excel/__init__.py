"""The Excel adapter: worksheet functions (``udfs``, over ``functions``), the refresh button
(``button``) and the workbook that carries them (``workbook``)."""

WORKBOOK = "acs_portfolio.xlsm"
MODULE = "acs_portfolio.py"  # xlwings' SampleCall imports the module named after the workbook
