"""Names that become file and folder names on disk, measured in bytes, and text a person reads.

Most file systems allow 255 bytes a path component (ext4, XFS, btrfs, ZFS;
APFS and NTFS count 255 characters or UTF-16 units, which 255 UTF-8 bytes
never exceed). A limit in characters says nothing of that: 100 four-byte
characters are 400 bytes, and 90 CJK characters with ``.docx`` are 275.

gitsync adds to names on disk, so a name must leave room for:

- ``.lock``: every atomic write goes through ``<name>.lock`` (5 bytes);
- ``.<name>.XXXXXXXX.new``: the staging folder of a new file or copy (14);
- `` (Sync)``: a copy's folder beside its parent's name (7);
- `` (99)``: a server name taken by another file (5);
- ``<stamp>-<id> <path> (replaced).git``: the server's recycle area keeps a
  whole file path in one name (44 with a 12-digit id);
- the lock files office applications put beside an open document
  (LibreOffice's ``.~lock.<name>#``, 8).

``NAME_BYTES_MAX`` (200) leaves 55 of the 255 bytes for them. One limit for
every name a user gives that becomes a path: document and folder names,
every path component in a client file's tree, a server file's path.
"""

from __future__ import annotations

import unicodedata

#: What most file systems allow a path component, in bytes.
COMPONENT_BYTES_MAX = 255
#: The suffix of every atomic write (``gitsync.fs.atomic_writer``).
WRITE_SUFFIX = ".lock"
#: The most a name that becomes a path component may take, in UTF-8 bytes.
NAME_BYTES_MAX = 200

#: Characters that reorder how text is shown (the "RLO" trick makes ``exe.pdf`` read as
#: ``fdp.exe``): the bidi embeddings, overrides and isolates, and the marks.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def utf8_size(text: str) -> int:
    """How many bytes ``text`` takes in UTF-8 (a lone surrogate counts as its three)."""
    return len(text.encode("utf-8", "surrogatepass"))


def name_size_problem(name: str, what: str) -> str | None:
    """Why ``name`` is too long for a path component, or None (``what``: "a document name")."""
    size = utf8_size(name)
    if size <= NAME_BYTES_MAX:
        return None
    return (
        f"{what} is at most {NAME_BYTES_MAX} bytes in UTF-8, to fit on disk with gitsync's "
        f"own suffixes (this one has {size} bytes in {len(name)} characters); shorten it "
        "('gitsync repair' shortens one committed before this rule)"
    )


def unsafe_character(text: str) -> str | None:
    """The first character a person could not see or that reorders the text, named; else None.

    Control characters (NUL, line breaks, escape), bidi controls and lone
    surrogates (a name that is not valid UTF-8).
    """
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc" or category == "Cs" or ch in BIDI_CONTROLS:
            return f"U+{ord(ch):04X}"
    return None


def text_problem(text: str, what: str, most: int) -> str | None:
    """Why a line of text a person reads (a client's name, a city) is refused, or None.

    At most ``most`` characters, and no control or bidi characters.
    """
    found = unsafe_character(text)
    if found:
        return f"{what} must not hold control or bidi characters (found {found})"
    if len(text) > most:
        return f"{what} is at most {most:,} characters (this one has {len(text):,})"
    return None


def component_problem(component: str) -> str | None:
    """Why one component of a tree path cannot be a name on disk everywhere, or None."""
    try:
        size = len(component.encode("utf-8"))
    except UnicodeEncodeError:
        return "a path must be valid UTF-8"
    if size > NAME_BYTES_MAX:
        return (
            f"a path component is at most {NAME_BYTES_MAX} bytes in UTF-8, to fit on disk "
            f"with gitsync's own suffixes (this one has {size})"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in component):
        return "a path must not hold control characters"
    return None


def fits_on_disk(path: str) -> bool:
    """Whether every component of ``path`` can be written here, its ``.lock`` suffix included.

    A tree made before the byte limit may hold a longer name; it is left
    out of the working files (``repair`` renames it) instead of failing the
    copy.
    """
    room = COMPONENT_BYTES_MAX - len(WRITE_SUFFIX)
    return all(utf8_size(part) <= room for part in path.split("/"))


def shortened(name: str, most: int = NAME_BYTES_MAX) -> str:
    """``name`` cut to at most ``most`` UTF-8 bytes at a character boundary, keeping its extension.

    ``Report <400 bytes>.docx`` becomes ``Report <...>….docx``: the stem is cut
    and ends with an ellipsis, so a reader sees the name was shortened.
    """
    if utf8_size(name) <= most:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or utf8_size(extension) > 16:
        stem, extension = name, ""
    tail = "…" + ("." + extension if extension else "")
    room = most - utf8_size(tail)
    cut = stem.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")
    return unicodedata.normalize("NFC", cut.rstrip() + tail)
