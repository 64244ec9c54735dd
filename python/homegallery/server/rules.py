"""Allow and deny rules by client address: the first rule that matches decides.

An address no rule matches is allowed, so an empty list keeps the server open to
whoever can reach it (by default only this machine: the server binds 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from homegallery.config import AccessRule, rule_networks

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Rule:
    allow: bool
    networks: tuple[Network, ...]
    everyone: bool  # `all`: matches even a client without an IP address


def compile_rules(rules: Sequence[AccessRule]) -> list[Rule]:
    """Rules from the config (already checked there, so values parse)."""
    compiled = []
    for rule in rules:
        value = rule.allow or rule.deny
        compiled.append(
            Rule(
                allow=bool(rule.allow),
                networks=rule_networks(value),
                everyone=value.strip().lower() in ("all", "*"),
            )
        )
    return compiled


def address_allowed(rules: Sequence[Rule], host: str | None) -> bool:
    """Whether a client at ``host`` may use the server."""
    if not rules:
        return True
    try:
        address = ipaddress.ip_address((host or "").split("%")[0])
    except ValueError:
        address = None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for rule in rules:
        if rule.everyone or (
            address is not None
            and any(address.version == net.version and address in net for net in rule.networks)
        ):
            return rule.allow
    return True
