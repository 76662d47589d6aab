"""Image noising: the page script; its code is in pages/views/image_noising.py."""

from pages.views.image_noising import main

main()
