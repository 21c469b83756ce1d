"""From a note to suggestions: text, retrieval, model adjudication, pipeline."""
