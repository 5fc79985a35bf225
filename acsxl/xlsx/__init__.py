"""An OOXML (Excel workbook) toolkit that knows nothing of tax or of acsxl's product: a workbook as
zip parts (``package``), cell formats appended to a stylesheet (``stylesheet``), worksheet rows written
as XML by polars and streamed into the file (``rows``), sheets merged from one package into another
(``merge``), and where a sheet's table starts (``scan``)."""
