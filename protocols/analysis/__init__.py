"""Analysis of recorded points: plain numpy/scipy functions, tested on their own."""
