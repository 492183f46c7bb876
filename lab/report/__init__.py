"""What users look at: HTML reports, plots and rollout videos."""
