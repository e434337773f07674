"""The codebook's output vocabulary (``shared/CODEBOOK.md``, "Output vocabulary"): the exact strings code uses."""

from __future__ import annotations

LABELS = ("marketing_sales", "communication_conversation", "other")
"""Duty labels."""
PROBA_COLUMNS = tuple(f"p_{label}" for label in LABELS)
ORIENTATIONS = ("marketing_sales", "communication_conversation", "mixed", "undetermined")
FLAGS = ("alchemist", "follower_credential", "hype_title", "discriminatory_requirement")
REASONS = {"A": "outcome_overreach", "B": "scope_overload", "C": "sole_ownership", "D": "facade", "E": "mismatch"}
"""Alchemist reason letters and their names."""
FUNCTIONS = {
    "social_media": "social media / community", "content_writing": "content writing",
    "graphic_design": "graphic design", "video_photo": "video / photography", "paid_advertising": "paid advertising",
    "seo_sem": "SEO / SEM", "web": "web development / maintenance", "email_marketing": "e-mail marketing",
    "sales_follow_up": "sales / lead follow-up", "customer_service": "customer service", "press_pr": "press / PR",
    "events": "events", "analytics": "analytics / reporting",
    "strategy": "overall marketing or communication strategy",
}
"""The 14 functions counted for reason B (scope overload), with their readable names."""
GROUNDS = ("sex", "age", "appearance", "civil_status", "origin", "religion", "health", "other")
"""Grounds of a discriminatory requirement."""
STATUSES = ("ok", "empty", "not_spanish", "garbled", "error")
"""What happened to an input row."""
