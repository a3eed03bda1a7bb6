# Valid Python 3.12 (a `type` statement): reported as needing a newer grammar.
import asyncio

type Positions = list[int]  # expect: AG000
