"""The partitioning all three assets share: one partition per watchlist symbol."""

from stock_assets.settings import Settings
from stock_assets.watchlist import symbol_partitions

symbols_partitions = symbol_partitions(Settings.from_env().symbols)
