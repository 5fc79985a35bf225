"""Adapters to files: case lists in, triaged portfolios out."""
