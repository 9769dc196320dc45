"""The format version of a client file (``format_version`` in engagement.json).

Its own module so that every git command gitsync runs can name it (the
``X-Gitsync-Format`` header) without loading the record kinds.
"""

FORMAT_VERSION = 1
