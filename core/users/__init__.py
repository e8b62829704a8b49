"""Users, passwords and login sessions (the minimal identity core; roles come with access control)."""
