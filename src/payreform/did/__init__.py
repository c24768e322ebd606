"""Event-study difference-in-differences (being split into one module per method step)."""

from payreform.did.honest import *  # noqa: F403
from payreform.did.honest import __all__  # noqa: F401
