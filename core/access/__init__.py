"""Access control (ARCHITECTURE §4): permissions from roles, record scopes as SQL filters,
masking of sensitive fields. Services ask ``ctx.access``; nothing else decides."""
