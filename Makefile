# Two commands for a fresh machine: `make run` (app on the sample data) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test test-clusters

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# the tests also run Spark Connect's thin client alone, from its own folder (.venv/thin-client)
$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-spark.txt requirements-spark-connect.txt \
		requirements-delta.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-spark.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --upgrade \
		--target $(VENV)/thin-client $$(grep -o '^pyspark-client==[^ ]*' requirements-spark-connect.txt)
	touch $@

run: $(VENV)/.runtime
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: $(VENV)/.dev
	$(PY) -m pytest

# KPI Lab against real Spark clusters started from pyspark's scripts (2-4 minutes; CI runs it)
test-clusters: $(VENV)/.dev
	$(PY) -m pytest -m cluster
