"""Curriculum sessions: proposing tasks, writing skills for them, verifying and storing what works."""
