"""The database: pool, URL and TLS, statements, tables, migrations, schema revision, versions, connection budget."""
