"""The layout stage: the curve, the sampling schedule, the added terms and the one SGD kernel."""
