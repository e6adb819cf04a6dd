"""The link up to the central source system: shared bulletins and daily statistics."""
