"""Operations: health probes, Prometheus metrics, JSON logs and the request middleware."""
