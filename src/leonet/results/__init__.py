"""Results: the chunked Parquet store, summaries, reports and exports."""
