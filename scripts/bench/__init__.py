"""`make bench-variants`: deployed defaults against hand-tuned variants, converge timings."""
