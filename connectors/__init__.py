"""Platform connectors. This package imports nothing from app/: plain data crosses in."""
