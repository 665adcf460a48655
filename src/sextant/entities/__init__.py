"""Discovery: table and metric details and field values, as the caller may see them."""
