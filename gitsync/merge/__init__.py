"""The three-way merge of a client file: records field by field, trees, the git driver.

- ``gitsync.merge.record.merge_records(path, base, ours, theirs) -> RecordMerge``:
  the pure record merge (conflicts are data).
- ``gitsync.merge.tree.merge_commits(repo, ours, theirs) -> TreeMerge``: what
  sync calls; writes the merged tree and returns it with its conflicts.
- ``gitsync.merge.driver``: the same merge as a git merge driver, and
  ``commit_driver_conflicts`` for the post-merge hook.
- ``gitsync.merge.conflicts``: list and resolve the conflicts waiting for review.

Nothing is imported here: the driver runs once per file in its own process,
and must not pay for pygit2 (DESIGN section 8).
"""
