"""The core's pages. Each module registers its own routes and views explicitly."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.include(".auth")         # /login, /logout
    config.include(".home")         # / (workbench)
    config.include(".apps")         # /apps: install and uninstall addons
    config.include(".preferences")  # /preferences, /language
    config.include(".search")       # /search
    config.include(".errors")       # 400 / 403 / 404 / 500 pages
