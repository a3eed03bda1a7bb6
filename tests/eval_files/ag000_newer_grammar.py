# Valid Python 3.12 (a `type` statement): reported as needing a newer grammar.
# python: <3.12
import asyncio

type Positions = list[int]  # expect: AG000
