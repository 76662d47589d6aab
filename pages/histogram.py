"""WIP."""

import streamlit as st

st.write("wip")
