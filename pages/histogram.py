"""Histogram animation: the page script; its code is in pages/views/histogram.py."""

from pages.views.histogram import main

main()
