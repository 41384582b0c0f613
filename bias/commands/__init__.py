"""One module per ``vitbias`` subcommand; each defines ``register(subparsers)``."""
