"""A small project with async_guard installed: what a team's test suite runs on."""

SECRET_KEY = "strict-project-not-a-secret"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "async_guard",
]
MIDDLEWARE = ["async_guard.middleware.AsyncGuardMiddleware"]
ROOT_URLCONF = "shop.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "shop.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "static/"
ASYNC_GUARD = {"MODE": "warn"}
