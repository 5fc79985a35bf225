"""The rules: parameters, catalogue, value parsing and the triage rules. Pure: no file or clock access
beyond reading the package's own data files."""
