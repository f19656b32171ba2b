"""Living with a repository: pins and garbage collection, disk usage, verify, retraction,
explaining a miss, and diffing two results' lineage."""

from provkit.services.lifecycle.diff import LineageDiff, diff
from provkit.services.lifecycle.du import du
from provkit.services.lifecycle.explain import Explanation, explain, explain_artifact
from provkit.services.lifecycle.gc import GcReport, gc
from provkit.services.lifecycle.pins import pin, pins, unpin
from provkit.services.lifecycle.retraction import (
    Taint,
    TaintedArtifactError,
    TaintedWarning,
    get_on_tainted,
    retract,
    retracted,
    set_on_tainted,
    taint_of,
    tainted,
    unretract,
)
from provkit.services.lifecycle.stats import reset_stats, stats
from provkit.services.lifecycle.verify import VerifyReport, verify

__all__ = [
    "LineageDiff", "diff",
    "Explanation", "explain", "explain_artifact", "reset_stats", "stats",
    "GcReport", "Taint", "TaintedArtifactError", "TaintedWarning", "VerifyReport", "du", "gc", "get_on_tainted", "pin",
    "pins", "retract", "retracted", "set_on_tainted", "taint_of", "tainted", "unpin", "unretract", "verify",
]  # fmt: skip
