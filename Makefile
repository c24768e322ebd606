# The two commands of the README, plus helpers. `make book` and `make test` create .venv on
# first use and reinstall when requirements.txt or pyproject.toml change.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: book test lint unit browser-deps fonts office-deps bench timings clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

## book: build the website into _build/html (executes every notebook); the Chinese edition (中文版)
## is built at the same time, on the second core, into _build/html/zh/ (its log: _build/zh/build.log)
book: $(STAMP) fonts office-deps
	rm -rf _build/.doctrees _build/jupyter_execute
	@$(BIN)/python book/_ext/editions.py build zh --log _build/zh/build.log & zh=$$!; \
	$(BIN)/jupyter-book build . --builder html; en=$$?; \
	wait $$zh && test $$en -eq 0
	@echo "open _build/html/index.html (中文版: _build/html/zh/index.html)"

.PHONY: locale
## locale: after an English page or notebook changed, re-extract its messages into the catalogues
## locale/zh_CN/LC_MESSAGES/*.po (new messages arrive empty, changed ones fuzzy), then list what to translate
locale: $(STAMP)
	$(BIN)/python book/_ext/editions.py locale
	@$(BIN)/python book/_ext/editions.py check || true

## fonts: Debian's Noto CJK fonts for Chinese labels in figures (installed with apt-get when run as root)
fonts:
	@fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || \
	  { if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "installing fonts-noto-cjk (Debian package) for Chinese labels in figures"; \
	      (apt-get install -y -q fonts-noto-cjk >/dev/null 2>&1 || \
	       (apt-get update -q >/dev/null && apt-get install -y -q fonts-noto-cjk >/dev/null)); \
	    else echo "no CJK font: install fonts-noto-cjk (or any font with Chinese characters) for Chinese labels"; fi; }

## test: lint, the fast lane (unit tests and doctests), then the slow lane (notebooks, CLI runs on
## strangers' data, the book with -W and the browser check) on both cores
test: $(STAMP) browser-deps fonts office-deps spark
	$(BIN)/ruff check src tests bench notebooks book/_ext
	$(BIN)/python -m pytest -m "not slow" --doctest-modules src/payreform tests -n 2 -q
	$(BIN)/python -m pytest -m slow -n 2 --dist loadfile -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench notebooks book/_ext

## unit: the fast lane only (unit tests and doctests; no book build, no browser, no notebooks)
unit: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" --doctest-modules src/payreform tests -n 2 -q

## office-deps: LibreOffice (writer, no GUI) and Poppler from Debian, to draw pages of the Word report in
## the book and check its layout in the tests (installed with apt-get when run as root)
office-deps:
	@command -v soffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "installing libreoffice-writer-nogui and poppler-utils (Debian packages) for the Word report's pages"; \
	      (apt-get install -y -q --no-install-recommends libreoffice-writer-nogui poppler-utils >/dev/null 2>&1 || \
	       (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends libreoffice-writer-nogui poppler-utils >/dev/null)); \
	    else echo "LibreOffice or Poppler not found: apt-get install libreoffice-writer-nogui poppler-utils (the book then shows the Word report's pages)"; fi; }

.PHONY: spark
SPARK_STAMP = $(VENV)/.spark-installed

## spark: engine=spark of gz-capitation: PySpark (the optional extra payreform[spark]) and Java 17
## (Debian's openjdk-17-jre-headless, installed with apt-get when run as root)
spark: $(SPARK_STAMP)
	@command -v java >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "installing openjdk-17-jre-headless (Debian package) for engine=spark"; \
	      (apt-get install -y -q openjdk-17-jre-headless >/dev/null 2>&1 || \
	       (apt-get update -q >/dev/null && apt-get install -y -q openjdk-17-jre-headless >/dev/null)); \
	    else echo "engine=spark needs Java 17 or later: apt-get install openjdk-17-jre-headless (or set JAVA_HOME); the Spark tests are skipped without it"; fi; }

$(SPARK_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[spark]'
	@touch $(SPARK_STAMP)

## browser-deps: Debian's chromium for the site test (installed with apt-get when run as root)
browser-deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "installing chromium (Debian package) for the browser test"; \
	      (apt-get install -y -q chromium >/dev/null 2>&1 || \
	       (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)); \
	    else echo "chromium not found: install it (apt-get install chromium) or set PAYREFORM_SKIP_BROWSER=1"; fi; }

## bench: measure every benchmark and store its figures in bench/results/ (shown by the book's appendix)
bench: $(STAMP) spark
	@mkdir -p bench/results
	$(BIN)/python bench/itsa_coverage.py --reps 1000 --json bench/results/itsa_coverage.json
	$(BIN)/python bench/itsa_speed.py --json bench/results/itsa_speed.json
	$(BIN)/python bench/did_coverage.py --reps 500 --json bench/results/did_coverage.json
	$(BIN)/python bench/did_speed.py --json bench/results/did_speed.json
	$(BIN)/python bench/did_staggered_bias.py --reps 100 --json bench/results/did_staggered_bias.json
	$(BIN)/python bench/itsa_grid.py --reps 1000 --workers 2 --json bench/results/itsa_grid.json
	$(BIN)/python bench/gz_scale.py --json bench/results/gz_scale.json
	$(BIN)/python bench/gz_run.py --json bench/results/gz_run.json
	$(BIN)/python bench/calibrate_youxi.py --json bench/results/calibrate_youxi.json
	$(BIN)/python bench/calibrate_sanming.py --json bench/results/calibrate_sanming.json
	$(BIN)/python bench/notebook_times.py --json bench/results/notebook_times.json
	$(BIN)/python bench/gz_spark.py --json bench/results/gz_spark.json
	$(BIN)/python bench/build_times.py --json bench/results/build_times.json

## timings: how long the book build, the fast lane and the whole test suite take here (a few minutes)
timings: $(STAMP)
	$(BIN)/python bench/build_times.py

clean:
	rm -rf _build reports notebooks/reports .pytest_cache
