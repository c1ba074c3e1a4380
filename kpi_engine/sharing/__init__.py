"""Sharing: workspaces behind private links, saved views, read-only links, reports."""
