"""`python -m buonispesa.cli`: how `serve --workers N` starts its children."""

from buonispesa.cli import main

main()
