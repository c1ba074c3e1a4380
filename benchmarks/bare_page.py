"""The floor for browser.py: a bare Streamlit page with one Plotly chart and nothing else,
served and drawn by the same Streamlit, Plotly and Chromium as KPI Lab."""

import plotly.graph_objects as go
import streamlit as st

st.title("Bare page")
st.plotly_chart(go.Figure(go.Scatter(x=list(range(30)), y=[(i * 7) % 11 for i in range(30)])))
