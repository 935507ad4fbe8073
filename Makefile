# Lotse: `make run` starts everything, `make test` runs the whole suite.
# Both set up the virtual environment (.venv) and train the model when needed.
PYTHON_VERSION := $(shell cat .python-version)
PY_BOOT := $(shell command -v python3.10 2>/dev/null || echo $(HOME)/.pyenv/versions/$(PYTHON_VERSION)/bin/python3.10)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONWARNINGS := ignore::DeprecationWarning

.PHONY: install build train run run-scaled test test-unit lint validate conversation-tests eval eval-conversations bench bench-qualification bench-handoff bench-crm bench-scaled bench-insights browser-deps balancer-deps clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PY_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<25" "setuptools<71" wheel
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

build: install
	$(VENV)/bin/lotse build

train: install
	$(VENV)/bin/lotse train

run: install
	$(VENV)/bin/lotse run

# The scale-out profile: 2 Rasa replicas and action servers behind HAProxy, on
# PostgreSQL, Redis and RabbitMQ (docs/scaling.md).
run-scaled: install balancer-deps
	$(VENV)/bin/lotse run --scaled

browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# The scale-out profile's load balancer: Debian's haproxy (/usr/sbin, off a user's PATH).
balancer-deps:
	@command -v haproxy >/dev/null || test -x /usr/sbin/haproxy || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }

# import-linter checks the architecture's contract (.importlinter, docs/architecture.md).
# It lives in its own environment: its click and rich are newer than Rasa's.
LINT_VENV := .venv-lint
$(LINT_VENV)/bin/lint-imports:
	$(PY_BOOT) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet "import-linter==2.15"

lint: install $(LINT_VENV)/bin/lint-imports
	$(LINT_VENV)/bin/lint-imports
	$(VENV)/bin/ruff check lotse crm_adapter dialogue conversations handoff insights privacy knowledge wiring bot console website ops tests bench

validate: train
	$(PY) -m rasa data validate --config config.yml --domain build/rasa/domain.yml \
	  --data bot/data build/rasa/data

conversation-tests: train
	$(PY) -m rasa test core --model $$($(PY) -c "from ops.training import model_path; print(model_path())") \
	  --stories tests/stories --fail-on-prediction-errors --out results/conversation-tests

test: install browser-deps balancer-deps lint train validate conversation-tests
	$(PY) -m pytest -q

test-unit: install $(LINT_VENV)/bin/lint-imports
	$(PY) -m pytest -q -m "not model and not browser"

eval: train
	$(VENV)/bin/lotse eval

# Simulated visitors hold the conversation corpus (tests/eval_conversations) with the bot.
eval-conversations: train
	$(VENV)/bin/lotse eval-conversations

bench: train
	$(PY) bench/latency.py
	$(PY) bench/retrieval.py
	$(PY) bench/cli_start.py

bench-qualification: train
	$(PY) bench/qualification.py

bench-handoff: train
	$(PY) bench/handoff.py

bench-crm: train
	$(PY) bench/crm_delivery.py

# The insights page's server time at 10k, 100k and 1M events (PostgreSQL at 127.0.0.1).
bench-insights: install
	$(PY) bench/insights.py

# Locust lives in its own environment: its dependencies (gevent, Flask) stay out of
# the bot's.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/bin/locust:
	$(PY_BOOT) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet "locust==2.32.10"

bench-scaled: train balancer-deps $(BENCH_VENV)/bin/locust
	$(PY) bench/scaled.py --locust $(BENCH_VENV)/bin/locust

clean:
	rm -rf build models results var
