"""Cross-source merging: one row per real incident, every source's figures kept, and an
estimate of the incidents no source recorded.

Modules, one concept each: `candidates` (the DuckDB candidate join on date and place),
`scoring` (match score and reasons), `assign` (one-to-one assignment), `combine` (combined
figures), `mse` (capture-recapture), `region` (admin-1 from coordinates), `match`
(`merge_incidents`), `result` (`MergeResult`).
"""

from .match import MergeError, merge_incidents
from .region import region_from_coordinates
from .result import MergeResult
from .scoring import MatchWeights

__all__ = ["MatchWeights", "MergeError", "MergeResult", "merge_incidents", "region_from_coordinates"]
