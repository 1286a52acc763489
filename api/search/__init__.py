"""Full-text search on tantivy: an index derived from MongoDB's ``articles``, kept
current by following their change stream (``follower``), read by ``searcher``."""
