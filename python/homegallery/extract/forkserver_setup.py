"""Imported by the extract forkserver as it starts (multiprocessing's preload list).

Its one effect: the forkserver ends when the run that started it ends, so a run killed
with ``kill -9`` leaves no forkserver behind (see ``lifeline``).
"""

from homegallery.extract.lifeline import die_with_parent

die_with_parent()
