PYTHON ?= python

.PHONY: bench reference fuzz

bench:
	$(PYTHON) benchmarks/p1_sphere.py
	$(PYTHON) benchmarks/p2_disc.py
	$(PYTHON) benchmarks/p3_cycle.py
	$(PYTHON) benchmarks/p6_electrode.py
	$(PYTHON) benchmarks/cycler_summary.py
	$(PYTHON) benchmarks/optical_pipeline.py
	$(PYTHON) benchmarks/cycler_load.py
	$(PYTHON) benchmarks/fit_particle.py
	$(PYTHON) benchmarks/fit_gitt.py

# refine mesh and tolerances, rewrite benchmarks/reference.json (~20 min on 2 cores)
reference:
	$(PYTHON) benchmarks/converge.py

# the fuzz suite with fresh random cases, 2000 per reader (CI runs a fixed few hundred); counts in fuzz-report.json
fuzz:
	SOCSCOPE_FUZZ_RANDOM=1 SOCSCOPE_FUZZ_EXAMPLES=2000 SOCSCOPE_FUZZ_REPORT=fuzz-report.json \
		$(PYTHON) -m pytest -q tests/fuzz
