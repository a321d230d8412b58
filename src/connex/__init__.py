"""Connex: verified, normalized crypto-exchange market data."""

__version__ = "0.1.0"
