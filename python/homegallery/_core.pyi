"""Types of the Rust extension module `homegallery._core`."""

def core_version() -> str:
    """Version of the compiled core; equals the package version of a fresh build."""
