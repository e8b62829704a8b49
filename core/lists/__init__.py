"""List pages by declaration: columns, filters, saved views (场景), search, sort, keyset
pagination, column chooser, bulk actions, export. See docs/addon-guide.md."""
