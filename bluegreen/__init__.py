"""bluegreen: blue/green deployments of containerised services to AWS."""

__version__ = "0.1.0"
