"""`cds bench`: latency, throughput and memory of the evaluation path, against the cost of parsing JSON."""
