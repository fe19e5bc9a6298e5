"""The Client's resources: ``prompts``, ``files``, ``responses``, ``models``, ``batches``, ``annotations``."""

from .annotations import Annotations
from .batches import Batches
from .files import Files
from .models import Models
from .prompts import Prompts
from .responses import Responses, ResponseStream

__all__ = ["Annotations", "Batches", "Files", "Models", "Prompts", "ResponseStream", "Responses"]
