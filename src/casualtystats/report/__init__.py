"""The HTML trend report: `build_report(sources, output)`.

Modules: `build` (composes the pipeline, progress, atomic write), `sections`
(the page's sections from the results), `figures` (plotly figures from tidy
panels), `html` (template, escaping, tables) and `compose`
(what the report and the monthly briefing share).
"""

from .build import build_report

__all__ = ["build_report"]
