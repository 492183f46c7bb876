"""The embodied learning lab: Voyager-style curricula and Eureka-style reward search on MuJoCo."""

__version__ = "0.1.0"
