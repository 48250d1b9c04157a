"""``python -m acrl_wrappers`` runs the ``acrl`` command line."""

from acrl_wrappers.cli import main

if __name__ == "__main__":
    main()
