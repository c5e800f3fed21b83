"""Pure core: plain functions on plain data. No Flask, no database session."""
