"""Cadence: a self-hosted post scheduler for communications teams."""
