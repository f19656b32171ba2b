"""Living with a repository: pins and garbage collection, disk usage, verify, retraction,
explaining a miss, and diffing two results' lineage."""

from provkit.services.lifecycle.du import du
from provkit.services.lifecycle.gc import GcReport, gc
from provkit.services.lifecycle.pins import pin, pins, unpin
from provkit.services.lifecycle.verify import VerifyReport, verify

__all__ = ["GcReport", "VerifyReport", "du", "gc", "pin", "pins", "unpin", "verify"]
