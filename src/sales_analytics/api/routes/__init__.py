"""The /v1 routers: metrics, customers and saved models."""
