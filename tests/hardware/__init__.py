"""Tests of generator/hardware: the tables and what a driver means."""
