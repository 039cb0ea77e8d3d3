"""`python -m bluegreen`: the same command line as the installed `bluegreen` script."""

from bluegreen.cli.main import run

if __name__ == "__main__":
    run()
