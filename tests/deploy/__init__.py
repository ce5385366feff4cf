"""Tests of what deploys the service rather than of a module of ``app/``: the ``Dockerfile``,
the wheel it installs with ``requirements.lock``, and the Helm chart in ``helm/assetlink``
(so this folder mirrors those top-level files, not an ``app/`` package)."""
