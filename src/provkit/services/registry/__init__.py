"""The dataset registry: executions, versioned datasets and writer/handler pairs.

reg = provkit.Registry()                       # the default repository, owner = you
ex = reg.register_execution("stage-1", description="...")
ds = reg.register_dataset("pipe/out.h5", "0.0.1", old_location="out.h5", execution_id=ex.id)
"""

from provkit.services.registry.handlers import Handler, get_handler, register_handler
from provkit.services.registry.records import BUMPS, OWNER_TYPES, Dataset, Execution
from provkit.services.registry.registry import Registry

__all__ = ["Registry", "Dataset", "Execution", "Handler", "register_handler", "get_handler", "OWNER_TYPES", "BUMPS"]
