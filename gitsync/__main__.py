"""``python -m gitsync``: what the hooks and the merge driver run."""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["hook"]:
        # A hook runs on every commit and push: skip loading the command-line layer.
        from gitsync.rules.hooks import main as hook_main

        sys.exit(hook_main(sys.argv[2:]))
    from gitsync.cli import main

    main()
