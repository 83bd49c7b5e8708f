"""How deeply JSON nests, and whether msgspec's syntax check settles it, read in one pass in C
(`_nesting.c`) without building it."""

def json_shape(json: bytes | bytearray | memoryview, limit: int, /) -> int: ...
