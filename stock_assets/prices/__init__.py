"""Prices: parsing Alpha Vantage answers into typed daily prices and keeping their history."""
