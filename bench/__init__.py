"""Benchmarks of gitsync against plain git: every row runs both, same change, same run.

``python -m bench`` (full) or ``python -m bench --quick`` (smoke size). The
table of ratios (gitsync / plain git) is printed, written as JSON to
``bench/out/results.json`` and plotted to ``bench/out/cost-vs-size.png``.
See bench/README.md.
"""
