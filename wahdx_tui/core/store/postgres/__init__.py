"""The store on PostgreSQL (psycopg 3), for a team across hosts."""
