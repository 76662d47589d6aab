"""Tests that drive Debian's Chromium against a real Streamlit server (marker ``browser``)."""
