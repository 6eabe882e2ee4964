"""Knowledge base views: `public` for readers (customers, anonymous, staff), `staff` for the
editor, history and categories."""
