"""The labelled matching-quality benchmark of issue 19: a directory (`directory`), personas with
labels (`personas`), the labels' checker (`check`) and the run (`run`); the command line is
``bench/matching_quality.py`` and docs/matching.md, "Quality benchmark", describes it."""
