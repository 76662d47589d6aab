"""The pages' code, imported once per server process.

Streamlit runs a page file afresh on every rerun. A cached function defined in that file is
made again each time, and Streamlit hashes its source to find its cache (~3–6 ms per rerun, a
tenth of a page's work). The page files in ``pages/`` only call ``main()`` of their module here,
so the cached functions are made once.
"""
