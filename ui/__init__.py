"""Streamlit helpers shared by the pages: state keys, the store resource, widgets, theme."""
