"""Warehouse: the `daily_prices` table, its migrations and its transactional loader."""
