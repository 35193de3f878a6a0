"""Northwind Labs support assistant (RAG API)."""
