from .base import *  # noqa: F401,F403

DEBUG = False
ALLOWED_HOSTS = ["www.example.com"]
