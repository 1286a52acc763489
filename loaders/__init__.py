"""Read news article files, validate and normalise them, and write them to MongoDB."""
