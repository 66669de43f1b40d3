"""The database every stage shares (the warehouse tables and the request budget): its schema,
its migrations and its resource. Infrastructure, wired at the edge (the definitions)."""
