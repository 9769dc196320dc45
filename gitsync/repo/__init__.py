"""Everything that touches git: pygit2 for objects, the git CLI for transport and hooks."""
