"""The HTML trend report: `build_report(sources, output)`.

Modules: `build` (composes the pipeline, progress, atomic write), `sections`
(the page's sections from the results), `figures` (plotly figures from tidy
panels), `html` (template, escaping, tables) and `compose`
(shared plumbing moved to `casualtystats.compose`).
"""

from .build import build_report

__all__ = ["build_report"]
