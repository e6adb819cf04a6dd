"""The inspection export (001 Điều 9.1): content, advertising and broadcast times of a period
as a spreadsheet for inspectors."""
