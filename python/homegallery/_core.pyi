"""Types of the Rust extension module `homegallery._core`."""

def core_version() -> str:
    """Version of the compiled core; equals the package version of a fresh build."""

def walk_source(
    root: str,
    excludes: list[str],
    exclude_if_present: str | None = None,
    max_file_size: int | None = None,
) -> tuple[
    list[tuple[str, int, int, int, int, int]],
    list[tuple[str, str]],
    int,
    int,
    int,
]:
    """Parallel walk of a source with gitignore-style excludes (GIL released).

    Returns (files, errors, excluded, too_large, marked_folders); each file is
    (relative path, size, mtime ns, ctime ns, inode, device), sorted by path; errors
    are (relative path, message). Raises FileNotFoundError when the root is missing
    or unreadable and ValueError for an invalid pattern.
    """

def match_excludes(excludes: list[str], paths: list[str], is_dir: bool) -> list[bool]:
    """Whether each relative path is excluded by the rules (for tests and benchmarks)."""

def hash_files(paths: list[str], threads: int = 0) -> list[tuple[str | None, int, str | None]]:
    """blake3 of many files in parallel: (hex digest or None, bytes read, error or None).

    ``threads`` 0 uses every core. Never raises for a single file's problem.
    """
