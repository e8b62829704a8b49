"""The web shell: Pyramid configuration, login, layout, menus, workbench, Apps page, errors."""
