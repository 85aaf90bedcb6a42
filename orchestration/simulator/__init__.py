"""Source-system simulator: deterministic, realistic extracts for one or many fire and rescue
services, landed to the layout in ``orchestration.ingestion.contracts``, with optional faults.
"""

from orchestration.simulator.config import SimulatorConfig
from orchestration.simulator.generate import generate

__all__ = ["SimulatorConfig", "generate"]
