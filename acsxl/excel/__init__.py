"""The Excel adapter: worksheet functions (``udfs``, over ``functions``), the refresh button
(``button``) and the workbook that carries them (``workbook``)."""
