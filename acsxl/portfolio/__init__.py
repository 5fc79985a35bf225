"""The product: the portfolio's columns (``columns``) and sheets (``sheets``), declared once each; their
layout (``layout``); the in-place refresh of a client's workbook (``inplace``); the synthetic sample
(``sample``); and the one service read -> triage -> write (``service``) that the command line, the
refresh and the button all use."""
