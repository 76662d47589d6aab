"""Schedules: the page script; its code is in pages/views/schedules.py."""

from pages.views.schedules import main

main()
