"""What a CI run calls: `locus-nb run` (papermill and its engine, parameter sets, summaries), the HTML
handouts, and the nbval replay plugin (`-p locus_nb.pytest_replay`). Built on the library and `notebook/`."""
