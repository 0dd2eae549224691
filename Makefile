PYTHON ?= python

.PHONY: bench reference

bench:
	$(PYTHON) benchmarks/p1_sphere.py
	$(PYTHON) benchmarks/p2_disc.py
	$(PYTHON) benchmarks/p3_cycle.py
	$(PYTHON) benchmarks/p6_electrode.py
	$(PYTHON) benchmarks/cycler_summary.py
	$(PYTHON) benchmarks/optical_pipeline.py
	$(PYTHON) benchmarks/fit_particle.py
	$(PYTHON) benchmarks/fit_gitt.py

# refine mesh and tolerances, rewrite benchmarks/reference.json (~20 min on 2 cores)
reference:
	$(PYTHON) benchmarks/converge.py
