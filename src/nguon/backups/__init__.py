"""Backups of the whole hub (database and media objects) and the inspection export.

The seeds oblige the province to back up regularly what it broadcast and keep it for
inspection: 002 Điều 11.2 and 14.7, 000/004 Điều 6.5 (monthly), 001 Điều 9.1 (content,
advertising and broadcast times, for inspection).
"""
