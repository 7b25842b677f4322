"""Demo data: the story demo (a believable ISP of 260 subscribers with history, holding
everything the operator's example URLs name) and bulk data sets for benchmarks."""
