"""The application database: ids, users, permissions, fingerprints, sessions and audit."""
