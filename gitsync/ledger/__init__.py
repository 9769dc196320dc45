"""The ledger: trial balance import, accounts, adjusting entries, codes, and the trial balance.

Each module reads the client file through a Snapshot, validates what the user
gave before anything is written, then commits the changed records in one
commit under the copy's lock (``gitsync.rules.commit_checked`` runs the rules first).
"""
