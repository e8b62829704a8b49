"""The addons bundled with Kehu; each is declared in setup.py's ``kehu.addons`` entry points."""
