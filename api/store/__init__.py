"""MongoDB reads: queries, filters, keyset cursors and page windows."""
