"""``homegallery config``: validates the config and prints it with every path resolved.

Lets a user check an edited file before a long import, and see the defaults and the
absolute paths the other commands will use.
"""

from __future__ import annotations

import argparse

from homegallery.cli.common import config_from_args, help_text


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "config",
        parents=[common],
        help="check the config file and print it resolved",
        description=help_text(__doc__),
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import msgspec  # lazy: light --help
    import yaml  # lazy: light --help

    config = config_from_args(args)
    print(yaml.safe_dump(msgspec.to_builtins(config), sort_keys=False), end="")
    return 0
