"""``python -m gitsync``: what the hooks and the merge driver run."""

import sys

if __name__ == "__main__":
    if sys.argv[1:2] == ["hook"]:
        # A hook runs on every commit and push: skip loading the command-line layer.
        from gitsync.rules.hooks import main as hook_main

        sys.exit(hook_main(sys.argv[2:]))
    if sys.argv[1:2] == ["merge-driver"]:
        # git runs the driver once per file: skip loading the command-line layer.
        from gitsync.merge.driver import main as driver_main

        sys.exit(driver_main(sys.argv[2:]))
    if sys.argv[1:2] == ["merge-server"]:
        # started by the merge driver's relay, on the first file of a plain git merge
        from gitsync.merge.server import main as server_main

        sys.exit(server_main(sys.argv[2:]))
    from gitsync.cli import main

    main()
