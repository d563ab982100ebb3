"""`python -m numtorch_magics install-kernel ...`: see `numtorch_magics.kernel`."""

from numtorch_magics.kernel import main

main()
