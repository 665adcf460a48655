"""Search: keyword (BM25) and embedding rankings fused by reciprocal rank, per caller."""
