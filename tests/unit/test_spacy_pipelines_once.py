"""The spaCy pipelines are loaded once per folder, however the folder is named."""

from __future__ import annotations

from dialogue.spacy_pipelines import PIPELINES_DIR, load_pipelines


def test_the_named_default_folder_and_no_folder_share_one_copy() -> None:
    assert load_pipelines(PIPELINES_DIR) is load_pipelines()
    assert load_pipelines(PIPELINES_DIR / ".." / PIPELINES_DIR.name) is load_pipelines()
