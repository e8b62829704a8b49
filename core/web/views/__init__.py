"""The core's pages. Each module registers its own routes and views explicitly."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.include(".auth")         # /login, /logout
    config.include(".home")         # / (workbench)
    config.include(".apps")         # /apps: install and uninstall addons
    config.include(".preferences")  # /preferences, /language
    config.include(".search")       # /search
    config.include(".account_security")  # /preferences/security: password, TOTP, sessions; /login/totp
    config.include(".api_tokens")  # /preferences/tokens
    config.include(".admin_departments")  # /admin/departments
    config.include(".admin_users")  # /admin/users
    config.include(".admin_roles")  # /admin/roles: permission matrix and scopes
    config.include(".admin_custom_fields")  # /admin/custom-fields: per kind of record
    config.include(".audit")        # /admin/audit
    config.include(".admin_jobs")  # /admin/jobs
    config.include(".notifications")  # /notifications, the bell
    config.include(".exports")      # /exports/<id>: a background export's progress and download link
    config.include(".files")        # /files/<id>: download one's own stored file
    config.include("core.web.panels")  # /panels/<id>: one lazy 360° panel; config.add_record_loader
    config.include(".errors")       # 400 / 403 / 404 / 500 pages
