"""The classroom page (``python -m sim.app``): ``page`` (the Solara components and layout),
``settings`` (the controls' values and the model they build), ``session`` (a browser tab's
model, kept run and worker thread), ``figures`` (the live panels), ``lesson`` (the lesson
read from the lecture guide's template), ``export`` (PNG, netCDF, CSV), ``assets`` (the
front-end files, installed for offline use)."""
