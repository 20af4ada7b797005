"""orders-etl: turns raw order exports into per-customer daily totals in EUR.

Raw exports land as raw/YYYY-MM-DD/*.csv (one folder per day, any number of files); a load
reads one day and writes out/YYYY-MM-DD/{totals.csv,rejects.csv,summary.json}.
"""
