"""The resolver `info` type, typed with our Context."""

from typing import TypeAlias

import strawberry

from clientzone.auth.context import Context

Info: TypeAlias = strawberry.Info[Context, None]
