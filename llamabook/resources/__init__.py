"""The Client's resources: ``prompts``, ``files``, ``responses``, ``models``."""

from .files import Files
from .models import Models
from .prompts import Prompts
from .responses import Responses, ResponseStream

__all__ = ["Files", "Models", "Prompts", "ResponseStream", "Responses"]
