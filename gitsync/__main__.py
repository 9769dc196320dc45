"""``python -m gitsync``: what the hooks and the merge driver run."""

from gitsync.cli import main

if __name__ == "__main__":
    main()
