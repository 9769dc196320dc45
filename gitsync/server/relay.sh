#!/bin/sh
# gitsync-server-relay: @HOOK@ of a file hosted by a gitsync server.
# The rules run in the resident server process; this only hands it the pushed
# refs (stdin) and git's quarantine, and prints its one-line answer.
# Without the server's socket (a push that bypassed the server) it refuses.
if [ -z "$GITSYNC_HOOK_SOCKET" ] || [ -z "$GITSYNC_PUSH_KEY" ]; then
    echo "gitsync: pushes to this file go through the gitsync server" >&2
    [ "@HOOK@" = "post-receive" ] && exit 0
    exit 1
fi
curl -sS --fail-with-body --max-time 600 --unix-socket "$GITSYNC_HOOK_SOCKET" \
    -H "Expect:" -H "X-Push-Key: $GITSYNC_PUSH_KEY" \
    -H "X-Object-Directory: $GIT_OBJECT_DIRECTORY" \
    -H "X-Alternate-Object-Directories: $GIT_ALTERNATE_OBJECT_DIRECTORIES" \
    -H "X-Quarantine-Path: $GIT_QUARANTINE_PATH" \
    --data-binary @- "http://gitsync/@HOOK@" >&2
status=$?
[ "@HOOK@" = "post-receive" ] && exit 0
exit $status
