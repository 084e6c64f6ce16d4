"""server layer, see ARCHITECTURE.md."""
