"""How providers and topics are identified: part of the storage contract, since the
loader stores these keys and the API looks them up."""

from __future__ import annotations


def provider_key(domain: str) -> str:
    """A provider is its domain: lower-cased, without a leading ``www.``."""
    domain = domain.strip().lower().rstrip(".")
    return domain[4:] if domain.startswith("www.") else domain


def topic_key(name: str) -> str:
    """Topics are the same topic when their names differ only in case (and spacing)."""
    return " ".join(name.casefold().split())
