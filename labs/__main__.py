"""`python -m labs ...` is `numtorch-labs ...`."""
from labs.cli import main

main()
