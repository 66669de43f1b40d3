"""Corporate actions: each symbol's splits and dividends from Alpha Vantage's SPLITS and DIVIDENDS
answers, so a free key gets exact adjusted prices."""
