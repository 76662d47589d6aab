"""Signal & noise: the page script; its code is in pages/views/signal_noise.py."""

from pages.views.signal_noise import main

main()
