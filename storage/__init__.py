"""The storage contract shared by `loaders` (the writer) and `api` (the reader).

Nothing else passes between the two halves: collection names, the stored
document shape and the indexes are defined here, once.
"""
