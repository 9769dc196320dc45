"""The light paths (gitsync.sync.idle) name the files and refs their owners write."""

from gitsync.documents import behaviour
from gitsync.repo import clientfile, content
from gitsync.rules import workingfiles
from gitsync.sync import idle


def test_the_light_paths_name_what_their_owners_write() -> None:
    assert idle.CHECKOUT_JOURNAL == clientfile.CHECKOUT_JOURNAL
    assert idle.DOCUMENTS_CACHE == behaviour.STAT_CACHE
    assert idle.INCOMING_PREFIX == content.INCOMING_PREFIX
    assert idle.CHECKED_FILE == workingfiles.CHECKED_FILE
