"""Connecting accounts with one click (OAuth flows) and keeping their tokens alive."""
