"""Moving a HomeGallery installation over: its config, and its tags through the files.

- :mod:`.hg_config` reads HomeGallery's config (its variables and defaults) and says
  what each setting becomes here, and what cannot come along;
- :mod:`.hg_events` reads its event log (``events.db``);
- :mod:`.hg_files` finds the file behind each of its sha1 ids;
- :mod:`.run` puts them together: our config, our index, the tags as our events.
"""
