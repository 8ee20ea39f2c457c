"""webfed: self-hosted, AWS-wire-compatible web identity federation."""

__version__ = "0.1.0"
